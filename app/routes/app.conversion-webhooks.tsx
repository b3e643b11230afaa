import type { ActionFunctionArgs } from "@remix-run/node";
import { data } from "@remix-run/node";
import { saveConversionWebhooksFromAdmin } from "../admin/conversions-view.server";
import { ConversionSettingsFormSchema, conversionSettingsErrorsOf } from "../conversions/settings-form";
import { authenticate } from "../shopify.server";

/**
 * The settings page's "Conversion webhooks" section posts here: the signing secret (write-only,
 * empty keeps the saved one) and the grace period. Answers the field errors, or ok.
 */
export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const fields: Record<string, string> = {};
  for (const [name, value] of await request.formData()) if (typeof value === "string") fields[name] = value;
  const form = ConversionSettingsFormSchema.safeParse(fields);
  if (!form.success) return data({ ok: false as const, errors: conversionSettingsErrorsOf(form.error), savedAt: null }, { status: 400 });
  await saveConversionWebhooksFromAdmin(session.shop, form.data);
  return { ok: true as const, errors: {}, savedAt: Date.now() };
};

export const loader = () => new Response("Not found", { status: 404 });
