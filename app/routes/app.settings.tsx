import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { data } from "@remix-run/node";
import { useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { Banner, BlockStack, Layout, Page } from "@shopify/polaris";
import { useState } from "react";
import { z } from "zod";
import { loadSettingsPage, saveSettingsFromAdmin, testConnectionFromAdmin } from "../admin/settings-page.server";
import { ConnectionCard } from "../components/ConnectionCard";
import { useAppHref } from "../components/embedded-links";
import { useToastOrInline } from "../components/flash";
import { SettingsForm } from "../components/SettingsForm";
import { fieldErrorsOf, SettingsFormSchema, type SettingsFieldErrors } from "../settings/settings-form";
import { MissingSecretKeyError } from "../settings/shop-settings.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return loadSettingsPage(session.shop);
};

const IntentSchema = z.object({ intent: z.enum(["save", "test_connection"]) });

function stringFields(formData: FormData): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, value] of formData) if (typeof value === "string") fields[name] = value;
  return fields;
}

function invalid(errors: SettingsFieldErrors) {
  return data({ intent: "save" as const, ok: false as const, errors }, { status: 400 });
}

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session, admin } = await authenticate.admin(request);
  const fields = stringFields(await request.formData());
  const intent = IntentSchema.safeParse(fields);
  if (!intent.success) throw new Response("Unknown action", { status: 400 });

  if (intent.data.intent === "test_connection") {
    return { intent: "test_connection" as const, connection: await testConnectionFromAdmin(session.shop) };
  }

  const form = SettingsFormSchema.safeParse(fields);
  if (!form.success) return invalid(fieldErrorsOf(form.error));
  try {
    const outcome = await saveSettingsFromAdmin(session.shop, admin.graphql, form.data);
    return { intent: "save" as const, ok: true as const, savedAt: Date.now(), ...outcome };
  } catch (error) {
    if (error instanceof MissingSecretKeyError) return invalid({ secretKey: error.message });
    throw error;
  }
};

/** The toast after a save (or its inline fallback), with the orders the new keys released. */
function savedMessage(released: number): string {
  if (released === 0) return "Settings saved";
  const orders = released === 1 ? "1 order waiting for your keys is" : `${released} orders waiting for your keys are`;
  return `Settings saved. ${orders} now queued for Refersion`;
}

export default function SettingsPage() {
  const { settings, connection } = useLoaderData<typeof loader>();
  const href = useAppHref();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const saving = navigation.state === "submitting" && navigation.formData?.get("intent") === "save";

  const saved = actionData?.intent === "save" && actionData.ok ? actionData : null;
  const serverErrors = actionData?.intent === "save" && !actionData.ok ? actionData.errors : null;
  const showSavedInline = useToastOrInline(saved ? savedMessage(saved.released) : null, saved?.savedAt);
  const [keysEdited, setKeysEdited] = useState(false);

  return (
    <Page title="Settings" narrowWidth backAction={{ content: "Home", url: href("/app") }}>
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            {saved && showSavedInline ? (
              <Banner tone="success" title={savedMessage(saved.released)} />
            ) : null}
            {saved?.storefrontWarning ? (
              <Banner tone="warning" title="Storefront not updated">
                <p>{saved.storefrontWarning}</p>
              </Banner>
            ) : null}
            {serverErrors ? (
              <Banner tone="critical" title="Nothing was saved">
                <p>Correct the highlighted fields and save again.</p>
              </Banner>
            ) : null}
            {/* A fresh form after each save and whenever the saved settings change. Action data
                arrives before the revalidated loader data, hence both in the key. */}
            <SettingsForm
              key={`${saved?.savedAt ?? "initial"}:${JSON.stringify(settings)}`}
              settings={settings}
              serverErrors={serverErrors}
              saving={saving}
              onKeysEditedChange={setKeysEdited}
            />
            <ConnectionCard
              connection={connection}
              canTest={settings.secretKeySet && settings.publicKey !== ""}
              unsavedKeyEdits={keysEdited}
            />
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
