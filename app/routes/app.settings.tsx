import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { data } from "@remix-run/node";
import { useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { Banner, BlockStack, Layout, Page } from "@shopify/polaris";
import { useCallback, useState } from "react";
import { z } from "zod";
import { loadSettingsPage, saveSettingsFromAdmin, testConnectionFromAdmin } from "../admin/settings-page.server";
import { countOf, pluralForm } from "../admin/plural";
import { ConnectionCheck } from "../components/ConnectionCard";
import { useAppHref } from "../components/embedded-links";
import { useToastOrInline } from "../components/flash";
import { SettingsForm } from "../components/SettingsForm";
import { ConversionWebhooksCard } from "../components/ConversionWebhooksCard";
import { loadConversionWebhooksView } from "../admin/conversions-view.server";
import { env } from "../env.server";
import { parseSettingsForm, type SettingsFieldErrors } from "../settings/settings-form";
import { MissingSecretKeyError } from "../settings/shop-settings.server";
import { shopTimeZone } from "../admin/shop-time-zone.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session, admin } = await authenticate.admin(request);
  const timeZone = await shopTimeZone(session.shop, admin.graphql);
  return { ...(await loadSettingsPage(session.shop, timeZone)), conversionWebhooks: await loadConversionWebhooksView(session.shop, env().SHOPIFY_APP_URL, timeZone) };
};

const IntentSchema = z.object({ intent: z.enum(["save", "test_connection"]) });

function stringFields(formData: FormData): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, value] of formData) if (typeof value === "string") fields[name] = value;
  return fields;
}

/** `at` tells one answer from the next, so the page can drop the messages of an older one. */
function invalid(errors: SettingsFieldErrors) {
  return data({ intent: "save" as const, ok: false as const, errors, at: Date.now() }, { status: 400 });
}

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session, admin } = await authenticate.admin(request);
  const fields = stringFields(await request.formData());
  const intent = IntentSchema.safeParse(fields);
  if (!intent.success) throw new Response("Unknown action", { status: 400 });

  if (intent.data.intent === "test_connection") {
    return { intent: "test_connection" as const, connection: await testConnectionFromAdmin(session.shop, await shopTimeZone(session.shop, admin.graphql)) };
  }

  const form = parseSettingsForm(fields);
  if (!form.data) return invalid(form.errors);
  try {
    const outcome = await saveSettingsFromAdmin(session.shop, admin.graphql, form.data, await shopTimeZone(session.shop, admin.graphql));
    const at = Date.now();
    return { intent: "save" as const, ok: true as const, savedAt: at, at, ...outcome };
  } catch (error) {
    if (error instanceof MissingSecretKeyError) return invalid({ secretKey: error.message });
    throw error;
  }
};

/** The toast after a save (or its inline fallback), with the orders the new keys released. */
function savedMessage(released: number): string {
  if (released === 0) return "Settings saved";
  return `Settings saved. ${countOf(released, "order")} waiting for your keys ${pluralForm(released, "is", "are")} now queued for Refersion`;
}

export default function SettingsPage() {
  const { settings, connection, conversionWebhooks } = useLoaderData<typeof loader>();
  const href = useAppHref();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const saving = navigation.state === "submitting" && navigation.formData?.get("intent") === "save";

  const saved = actionData?.intent === "save" && actionData.ok ? actionData : null;
  const serverErrors = actionData?.intent === "save" && !actionData.ok ? actionData.errors : null;
  const showSavedInline = useToastOrInline(saved ? savedMessage(saved.released) : null, saved?.savedAt);
  const [keysEdited, setKeysEdited] = useState(false);
  // A save's messages stay until the merchant's next action (an edit, a check, another save), so
  // no banner speaks of an earlier state of the form.
  const answerAt = actionData?.intent === "save" ? actionData.at : null;
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  const dismissMessages = useCallback(() => setDismissedAt(answerAt), [answerAt]);
  const showMessages = answerAt !== null && answerAt !== dismissedAt && !saving;

  return (
    <Page title="Settings" narrowWidth backAction={{ content: "Home", url: href("/app") }}>
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            {showMessages && saved && showSavedInline ? (
              <Banner tone="success" title={savedMessage(saved.released)} onDismiss={dismissMessages} />
            ) : null}
            {showMessages && saved?.storefrontWarning ? (
              <Banner tone="warning" title="Storefront not updated" onDismiss={dismissMessages}>
                <p>{saved.storefrontWarning}</p>
              </Banner>
            ) : null}
            {showMessages && serverErrors ? (
              <Banner tone="critical" title="Nothing was saved">
                <p>Correct the highlighted fields and save again.</p>
              </Banner>
            ) : null}
            {/* A fresh form after each save and whenever the saved settings change. Action data
                arrives before the revalidated loader data, hence both in the key. */}
            <SettingsForm
              key={`${saved?.savedAt ?? "initial"}:${JSON.stringify(settings)}`}
              settings={settings}
              connectionState={connection.state}
              serverErrors={serverErrors}
              saving={saving}
              onKeysEditedChange={setKeysEdited}
              onEdit={dismissMessages}
              keysCheck={
                <ConnectionCheck
                  connection={connection}
                  canTest={settings.secretKeySet && settings.publicKey !== ""}
                  unsavedKeyEdits={keysEdited}
                  justChecked={saved?.connection ?? null}
                  onTest={dismissMessages}
                />
              }
            />
            <ConversionWebhooksCard view={conversionWebhooks} />
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
