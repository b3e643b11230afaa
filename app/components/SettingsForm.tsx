import { useSubmit } from "@remix-run/react";
import { SaveBar } from "@shopify/app-bridge-react";
import { BlockStack, Box, Button, Card, Checkbox, ChoiceList, Form, FormLayout, InlineStack, Text, TextField } from "@shopify/polaris";
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import type { ConnectionState } from "../admin/connection-view";
import type { SettingsFormView } from "../admin/settings-page.server";
import { CLICK_DATA_WAIT_MAX_MINUTES, parseSettingsForm, type SettingsFieldErrors, type SettingsForm as SettingsFormValues } from "../settings/settings-form";

/** The form's fields: the settings as loaded, with the secret as typed (empty keeps the saved one). */
type Values = Omit<SettingsFormView, "secretKeySet" | "secretKeyLast4" | "clickDataWaitMinutes"> & { secretKey: string; clickDataWaitMinutes: string };
type OnOffField = { [K in keyof Values]: Values[K] extends boolean ? K : never }[keyof Values];

const MISSING_SECRET = "Enter your Refersion secret key";
const UNREADABLE_SECRET = "The saved secret key can no longer be read: enter it again and save";
const SAVE_BAR_ID = "settings-save-bar";

/** The auto-credit option's help: the affiliate id lives in the cart, which every shopper can write. */
export const AUTO_CREDIT_AFFILIATE_HELP =
  "Sends the affiliate id captured by the tracking script with the order, instead of letting Refersion match the click. " +
  "Risk: the id is kept in the shopper's cart, where any shopper can change it, so with this on a buyer can choose which " +
  "affiliate is credited, themselves included. Only ids made of digits are accepted. Leave it off unless you check these " +
  "commissions before paying them.";

/**
 * Validates in the browser with the schema the server uses, so a mistake is shown before
 * anything is sent; the server validates again and its errors appear on the same fields.
 */
function validate(values: Values, secretKeyWanted: boolean): { errors: SettingsFieldErrors; data: SettingsFormValues | null } {
  const parsed = parseSettingsForm({ ...values, secretKey: secretKeyWanted ? values.secretKey : "" });
  const errors: SettingsFieldErrors = parsed.errors ?? {};
  if (secretKeyWanted && !values.secretKey.trim() && !errors.secretKey) errors.secretKey = MISSING_SECRET;
  return { errors, data: parsed.data && Object.keys(errors).length === 0 ? parsed.data : null };
}

/** The form's values as loaded: what "unsaved changes" are measured against. */
function initialValues(settings: SettingsFormView): Values {
  return {
    publicKey: settings.publicKey,
    secretKey: "",
    forwardingEnabled: settings.forwardingEnabled,
    currency: settings.currency,
    forwardTestOrders: settings.forwardTestOrders,
    sendCustomerDetails: settings.sendCustomerDetails,
    autoCreditAffiliate: settings.autoCreditAffiliate,
    forwardTrigger: settings.forwardTrigger,
    reverseCancellations: settings.reverseCancellations,
    reverseRefunds: settings.reverseRefunds,
    clickDataWaitMinutes: String(settings.clickDataWaitMinutes),
  };
}

/**
 * Whether App Bridge's contextual save bar (`ui-save-bar`) is there. Inside Shopify's admin App
 * Bridge defines it; without App Bridge (its script blocked, a test browser) the element is
 * unknown and the form keeps its own Save button. False on the server and at hydration.
 */
function useSaveBarAvailable(): boolean {
  const [available, setAvailable] = useState(false);
  useEffect(() => {
    if (typeof customElements === "undefined") return;
    let active = true;
    customElements.whenDefined("ui-save-bar").then(() => active && setAvailable(true), () => undefined);
    return () => {
      active = false;
    };
  }, []);
  return available;
}

function toFormData(data: SettingsFormValues): FormData {
  const formData = new FormData();
  formData.set("intent", "save");
  formData.set("publicKey", data.publicKey);
  formData.set("secretKey", data.secretKey ?? "");
  formData.set("forwardingEnabled", String(data.forwardingEnabled));
  formData.set("currency", data.currency);
  formData.set("forwardTestOrders", String(data.forwardTestOrders));
  formData.set("sendCustomerDetails", String(data.sendCustomerDetails));
  formData.set("autoCreditAffiliate", String(data.autoCreditAffiliate));
  formData.set("forwardTrigger", data.forwardTrigger ?? "created");
  formData.set("reverseCancellations", String(data.reverseCancellations ?? true));
  formData.set("reverseRefunds", String(data.reverseRefunds ?? true));
  if (data.clickDataWaitMinutes !== undefined) formData.set("clickDataWaitMinutes", String(data.clickDataWaitMinutes));
  return formData;
}

export function SettingsForm({
  settings,
  connectionState,
  serverErrors,
  saving,
  onKeysEditedChange,
  onEdit,
  keysCheck,
}: {
  settings: SettingsFormView;
  /** The saved keys' check outcome: an unreadable secret opens its field to be entered again. */
  connectionState?: ConnectionState;
  serverErrors: SettingsFieldErrors | null;
  saving: boolean;
  /** Told whether the keys in the form differ from the saved ones (until they are saved). */
  onKeysEditedChange?: (edited: boolean) => void;
  /** Told on every edit and on discard: the page drops its messages about the last save. */
  onEdit?: () => void;
  /** The keys' check, shown in the keys' card under the fields. */
  keysCheck?: ReactNode;
}) {
  const submit = useSubmit();
  const loaded = useMemo(() => initialValues(settings), [settings]);
  const secretUnreadable = connectionState === "secret_unreadable";
  const [values, setValues] = useState<Values>(loaded);
  const [replacingSecret, setReplacingSecret] = useState(!settings.secretKeySet || secretUnreadable);
  const [showSecret, setShowSecret] = useState(false);
  const [clientErrors, setClientErrors] = useState<SettingsFieldErrors | null>(null);
  // Server errors show until the merchant edits the field they belong to.
  const [dismissed, setDismissed] = useState<Set<string>>(new Set());
  const saveBarAvailable = useSaveBarAvailable();
  const fields = useRef<HTMLDivElement>(null);
  const onEditRef = useRef(onEdit);
  onEditRef.current = onEdit;

  const keysEdited = values.publicKey.trim() !== settings.publicKey || values.secretKey.trim() !== "";
  useEffect(() => onKeysEditedChange?.(keysEdited), [keysEdited, onKeysEditedChange]);
  // Unsaved changes, whichever the field: what the save bar is shown for.
  const dirty = JSON.stringify({ ...values, publicKey: values.publicKey.trim(), secretKey: values.secretKey.trim() }) !== JSON.stringify(loaded);

  const errorFor = (field: keyof SettingsFieldErrors): string | undefined =>
    clientErrors?.[field] ??
    (dismissed.has(field) ? undefined : (serverErrors?.[field] ?? (field === "secretKey" && secretUnreadable ? UNREADABLE_SECRET : undefined)));

  // Errors, from the browser's check or the server's, take the keyboard to the first field with one.
  useEffect(() => {
    if (!clientErrors && !serverErrors) return;
    fields.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [clientErrors, serverErrors]);

  const update = useCallback(<K extends keyof Values>(field: K, value: Values[K]) => {
    setValues((current) => ({ ...current, [field]: value }));
    setClientErrors((current) => (current && current[field as keyof SettingsFieldErrors] ? { ...current, [field]: undefined } : current));
    setDismissed((current) => new Set(current).add(field));
    onEditRef.current?.();
  }, []);
  // Every on/off option: a Polaris checkbox bound to its field.
  const option = (field: OnOffField, label: string, helpText: string) => (
    <Checkbox label={label} checked={values[field]} onChange={(checked) => update(field, checked)} helpText={helpText} />
  );

  const handleSubmit = () => {
    const { errors, data } = validate(values, replacingSecret);
    if (!data) {
      setClientErrors(errors);
      return;
    }
    setClientErrors(null);
    setDismissed(new Set());
    setValues((current) => ({ ...current, publicKey: data.publicKey, secretKey: data.secretKey ?? "" }));
    submit(toFormData(data), { method: "post" });
  };

  const discard = () => {
    setValues(loaded);
    setReplacingSecret(!settings.secretKeySet || secretUnreadable);
    setShowSecret(false);
    setClientErrors(null);
    onEditRef.current?.();
  };

  return (
    <Form onSubmit={handleSubmit} noValidate>
      {saveBarAvailable ? (
        <SaveBar id={SAVE_BAR_ID} open={dirty || saving}>
          <button variant="primary" onClick={handleSubmit} loading={saving ? "" : undefined} disabled={saving}>
            Save
          </button>
          <button onClick={discard} disabled={saving}>
            Discard
          </button>
        </SaveBar>
      ) : null}
      <div ref={fields}>
        <BlockStack gap="400">
          <Card>
            <BlockStack gap="400">
              <BlockStack gap="100">
                <Text as="h2" variant="headingMd">
                  Refersion keys
                </Text>
                <Text as="p" tone="subdued">
                  Find them in your Refersion account under Account &gt; Settings &gt; Refersion API.
                </Text>
              </BlockStack>
              <FormLayout>
                <TextField
                  label="Public key"
                  name="publicKey"
                  value={values.publicKey}
                  onChange={(value) => update("publicKey", value)}
                  error={errorFor("publicKey")}
                  autoComplete="off"
                  spellCheck={false}
                />
                {replacingSecret ? (
                  <BlockStack gap="200">
                    <TextField
                      label={settings.secretKeySet ? "New secret key" : "Secret key"}
                      name="secretKey"
                      type={showSecret ? "text" : "password"}
                      value={values.secretKey}
                      onChange={(value) => update("secretKey", value)}
                      error={errorFor("secretKey")}
                      autoComplete="new-password"
                      spellCheck={false}
                      helpText="Stored encrypted. It is never shown again after you save it."
                      connectedRight={
                        // Shows only what is being typed here: the saved secret never reaches the browser.
                        <Button
                          onClick={() => setShowSecret((shown) => !shown)}
                          pressed={showSecret}
                          accessibilityLabel={showSecret ? "Hide the secret you typed" : "Show the secret you typed"}
                        >
                          {showSecret ? "Hide" : "Show"}
                        </Button>
                      }
                    />
                    {settings.secretKeySet && !secretUnreadable ? (
                      <InlineStack>
                        <Button
                          variant="plain"
                          onClick={() => {
                            setReplacingSecret(false);
                            update("secretKey", "");
                          }}
                        >
                          Keep the saved secret key
                        </Button>
                      </InlineStack>
                    ) : null}
                  </BlockStack>
                ) : (
                  <Box>
                    <BlockStack gap="100">
                      <Text as="p" variant="bodyMd" fontWeight="medium">
                        Secret key
                      </Text>
                      <InlineStack gap="300" blockAlign="center">
                        <Text as="span" variant="bodyMd" tone="subdued">
                          <span data-testid="secret-key-status">Set, ending in {settings.secretKeyLast4 ?? "????"}</span>
                        </Text>
                        <Button onClick={() => setReplacingSecret(true)}>Replace secret key</Button>
                      </InlineStack>
                    </BlockStack>
                  </Box>
                )}
              </FormLayout>
              {keysCheck}
            </BlockStack>
          </Card>

          <Card>
            <BlockStack gap="400">
              <Text as="h2" variant="headingMd">
                Forwarding
              </Text>
              {option(
                "forwardingEnabled",
                "Forward orders to Refersion",
                "When off, new orders are recorded as skipped and the storefront tracking script stays silent.",
              )}
              <ChoiceList
                title="Currency of the amounts sent"
                choices={[
                  { label: "Shop currency", value: "shop", helpText: "The currency of your Shopify reports." },
                  { label: "Buyer's currency", value: "presentment", helpText: "The currency the buyer paid in." },
                ]}
                selected={[values.currency]}
                onChange={(selected) => update("currency", selected[0] === "presentment" ? "presentment" : "shop")}
                error={errorFor("currency")}
              />
              {option(
                "forwardTestOrders",
                "Forward test orders",
                "Orders placed with Shopify's test payment gateway.",
              )}
              {option(
                "sendCustomerDetails",
                "Send customer details (name, email, IP address)",
                "Lets Refersion show who bought and detect self-referrals.",
              )}
              {option(
                "autoCreditAffiliate",
                "Credit the affiliate recorded by the storefront directly",
                AUTO_CREDIT_AFFILIATE_HELP,
              )}
            </BlockStack>
          </Card>

          <Card>
            <BlockStack gap="400">
              <Text as="h2" variant="headingMd">
                Order lifecycle
              </Text>
              <ChoiceList
                title="Send an order to Refersion"
                choices={[
                  { label: "When it is placed", value: "created", helpText: "Most stores: the order is sent as soon as Shopify creates it." },
                  {
                    label: "When it is paid",
                    value: "paid",
                    helpText: "For cash on delivery and pay-later stores: the order is sent once Shopify marks it paid.",
                  },
                ]}
                selected={[values.forwardTrigger]}
                onChange={(selected) => update("forwardTrigger", selected[0] === "paid" ? "paid" : "created")}
                error={errorFor("forwardTrigger")}
              />
              {option(
                "reverseCancellations",
                "Reverse the commission when an order is cancelled",
                "Cancels the conversion in Refersion for orders that were sent.",
              )}
              {option(
                "reverseRefunds",
                "Reverse the commission on refunded items",
                "Cancels just the refunded items; refunds that only restock send nothing.",
              )}
              <TextField
                label="Wait for click data (minutes)"
                name="clickDataWaitMinutes"
                type="number"
                min={0}
                max={CLICK_DATA_WAIT_MAX_MINUTES}
                value={values.clickDataWaitMinutes}
                onChange={(value) => update("clickDataWaitMinutes", value)}
                error={errorFor("clickDataWaitMinutes")}
                autoComplete="off"
                helpText="Buy it now and express checkout orders have no cart to match: they wait this long for the checkout pixel's click before they are sent. 0 sends them at once."
              />
            </BlockStack>
          </Card>

          {saveBarAvailable ? null : (
            // Without App Bridge there is no save bar: the form saves with its own button. On a
            // phone, Polaris' cards reach the screen's edges; the button keeps off it.
            <Box paddingInline={{ xs: "400", sm: "0" }}>
              <InlineStack align="end">
                <Button variant="primary" submit loading={saving}>
                  Save
                </Button>
              </InlineStack>
            </Box>
          )}
        </BlockStack>
      </div>
    </Form>
  );
}
