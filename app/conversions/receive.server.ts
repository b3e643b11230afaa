import { SecretBoxError } from "../database/secret-box.server";
import { hasRecordedInstall } from "../shops/uninstall.server";
import { logger } from "../logger.server";
import { isConversionTopic, parseConversionWebhook } from "./payload";
import { markReceived, receiverByToken, signingSecretOf } from "./receiver.server";
import { hasValidSignature, SIGNATURE_HEADER } from "./signature";
import { recordConversion } from "./store.server";

/** Far above a conversion webhook (a few kilobytes); the web server refuses more before the app reads it. */
export const MAX_CONVERSION_BODY_BYTES = 64 * 1024;

function answer(status: number, text: string, headers: Record<string, string> = {}): Response {
  return new Response(text, { status, headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", ...headers } });
}

const NOT_FOUND = "No conversion webhook receiver at this address";

/**
 * One POST from Refersion to a shop's receiver URL. In this order, and nothing is parsed or
 * stored before the signature holds:
 *   unknown token, or a shop that uninstalled the app -> 404;
 *   body over the limit -> 413;
 *   no signing secret saved, signature missing or wrong -> 401;
 *   a topic that is not a conversion -> 200, ignored;
 *   not JSON, or not a conversion -> 400 with the reasons;
 *   otherwise stored (idempotent, the later status wins) -> 200.
 */
export async function receiveConversionWebhook(request: Request, token: string | undefined, now = new Date()): Promise<Response> {
  if (request.method !== "POST") return answer(405, "Conversion webhooks are POST requests", { Allow: "POST" });
  const receiver = token ? await receiverByToken(token) : null;
  if (!receiver || !(await hasRecordedInstall(receiver.shop))) {
    await request.body?.cancel().catch(() => undefined);
    return answer(404, NOT_FOUND);
  }
  const shop = receiver.shop;

  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_CONVERSION_BODY_BYTES) return answer(413, `Conversion webhook bodies are limited to ${MAX_CONVERSION_BODY_BYTES} bytes`);
  const raw = Buffer.from(await request.arrayBuffer());
  if (raw.length > MAX_CONVERSION_BODY_BYTES) return answer(413, `Conversion webhook bodies are limited to ${MAX_CONVERSION_BODY_BYTES} bytes`);

  let secret: string | null;
  try {
    secret = signingSecretOf(receiver);
  } catch (error) {
    if (!(error instanceof SecretBoxError)) throw error;
    // Sealed under a key this process does not have: Refersion is asked to come back once it has.
    logger.error("conversion webhook: the signing secret cannot be opened", { shop, reason: error.message });
    return answer(503, "The signing secret cannot be read right now", { "Retry-After": "300" });
  }
  if (secret === null) {
    logger.warn("conversion webhook refused: no signing secret saved", { shop });
    return answer(401, "No signing secret is saved for this receiver: save Refersion's webhook signing secret in the app's settings");
  }
  const signature = request.headers.get(SIGNATURE_HEADER);
  if (!hasValidSignature(raw, signature, secret)) {
    logger.warn("conversion webhook refused: signature", { shop, signature: signature === null ? "missing" : "wrong" });
    return answer(401, `${SIGNATURE_HEADER} ${signature === null ? "is missing" : "does not match the body and the saved signing secret"}`);
  }
  await markReceived(shop, now);

  const topic = request.headers.get("Refersion-Topic");
  if (!isConversionTopic(topic)) return answer(200, `Ignored: ${topic} is not a conversion webhook`);

  let json: unknown;
  try {
    json = JSON.parse(raw.toString("utf8"));
  } catch {
    logger.warn("conversion webhook refused: not JSON", { shop });
    return answer(400, "The body is not JSON");
  }
  const parsed = parseConversionWebhook(json);
  if (!parsed.ok) {
    logger.warn("conversion webhook refused: not a conversion", { shop, problems: parsed.problems.length });
    return answer(400, `Not a Refersion conversion: ${parsed.problems.join("; ")}`);
  }
  const outcome = await recordConversion(shop, parsed.report, now);
  logger.info("conversion webhook", { shop, conversionId: parsed.report.conversionId, status: parsed.report.status, outcome });
  return new Response(JSON.stringify({ ok: true, outcome }), { status: 200, headers: { "Content-Type": "application/json", "Cache-Control": "no-store" } });
}
