import { z } from "zod";
import type { ConversionStatus } from "@prisma/client";

/**
 * Refersion's conversion webhook body (New Conversion, Conversion Approved, Conversion Denied),
 * read for what the admin shows. Numbers may arrive as strings; other fields (the buyer, the
 * click, the offer) are ignored and never kept. Pure: no I/O.
 */

/** An id as Refersion sends it: a number or a string, kept as a string. */
const id = z
  .union([z.number().int().nonnegative(), z.string().trim().min(1).max(255)], { error: "must be a number or a non-empty string" })
  .transform(String);

const optionalText = (max: number) =>
  z
    .union([z.string(), z.number()], { error: "must be text" })
    .transform((value) => String(value).trim())
    .refine((value) => value.length <= max, `must be at most ${max} characters`)
    .nullish()
    .transform((value) => (value ? value : null));

/** A decimal amount, e.g. 12.5 or "12.50"; kept as the decimal string Refersion sent. */
const amount = z
  .union([z.number().finite(), z.string().trim().regex(/^-?\d{1,15}(\.\d{1,6})?$/, "must be a decimal number")], {
    error: "must be a decimal number",
  })
  .transform(String)
  .nullish()
  .transform((value) => value ?? null);

/** "YYYY-MM-DD HH:MM:SS" (Refersion's form, read as UTC) or an ISO 8601 time. */
const timestamp = z
  .string()
  .trim()
  .transform((value, context) => {
    const plain = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(value) ? `${value.replace(" ", "T")}Z` : value;
    const time = /^\d{4}-\d{2}-\d{2}T/.test(plain) ? new Date(plain) : new Date(Number.NaN);
    if (Number.isNaN(time.getTime())) {
      context.addIssue({ code: "custom", message: 'must be a time like "2026-12-05 10:30:00"' });
      return z.NEVER;
    }
    return time;
  })
  .nullish()
  .transform((value) => value ?? null);

const flag = z
  .union([z.boolean(), z.literal(0), z.literal(1), z.enum(["0", "1", "true", "false"])], { error: "must be true or false" })
  .transform((value) => value === true || value === 1 || value === "1" || value === "true")
  .nullish()
  .transform((value) => value ?? false);

const STATUSES = { PENDING: "pending", APPROVED: "approved", DENIED: "denied" } as const satisfies Record<string, ConversionStatus>;

const status = z
  .string({ error: "is required (PENDING, APPROVED or DENIED)" })
  .transform((value) => value.trim().toUpperCase())
  .pipe(z.enum(["PENDING", "APPROVED", "DENIED"], { error: "must be PENDING, APPROVED or DENIED" }))
  .transform((value) => STATUSES[value]);

const Affiliate = z
  .object({ id: id.nullish(), code: optionalText(255), first_name: optionalText(255), last_name: optionalText(255) }, { error: "must be an object" })
  .nullish();

export const ConversionWebhookSchema = z.object(
  {
    id,
    status,
    order_id: id.nullish(),
    created: timestamp,
    updated: timestamp,
    denied_reason_code: optionalText(255),
    reason: optionalText(1000),
    total: amount,
    commission_total: amount,
    currency: optionalText(8),
    is_test_conversion: flag,
    affiliate: Affiliate,
  },
  { error: "the body must be a JSON object" },
);

/** What is kept of one conversion webhook. */
export interface ConversionReport {
  conversionId: string;
  orderId: string | null;
  status: ConversionStatus;
  deniedReason: string | null;
  affiliateId: string | null;
  affiliateCode: string | null;
  affiliateName: string | null;
  commission: string | null;
  total: string | null;
  currency: string | null;
  test: boolean;
  refersionCreatedAt: Date | null;
  refersionUpdatedAt: Date | null;
}

export type ConversionParse = { ok: true; report: ConversionReport } | { ok: false; problems: string[] };

function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ${issue.message}` : issue.message));
}

export function parseConversionWebhook(json: unknown): ConversionParse {
  const parsed = ConversionWebhookSchema.safeParse(json);
  if (!parsed.success) return { ok: false, problems: problemsOf(parsed.error) };
  const body = parsed.data;
  const name = [body.affiliate?.first_name, body.affiliate?.last_name].filter(Boolean).join(" ");
  const deniedReason = body.status === "denied" ? (body.reason ?? body.denied_reason_code) : null;
  return {
    ok: true,
    report: {
      conversionId: body.id,
      orderId: body.order_id ?? null,
      status: body.status,
      deniedReason,
      affiliateId: body.affiliate?.id ?? null,
      affiliateCode: body.affiliate?.code ?? null,
      affiliateName: name || null,
      commission: body.commission_total,
      total: body.total,
      currency: body.currency ? body.currency.toUpperCase() : null,
      test: body.is_test_conversion,
      refersionCreatedAt: body.created,
      refersionUpdatedAt: body.updated,
    },
  };
}

/** Refersion-Topic values this receiver stores; other topics sent to the same URL are acknowledged and ignored. */
export function isConversionTopic(topic: string | null): boolean {
  return topic === null || /CONVERSION/i.test(topic);
}
