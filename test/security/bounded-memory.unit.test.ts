/**
 * What the app holds in memory does not grow with what others send: the logger's set of secrets
 * to mask, and the part of Refersion's answer that is read.
 */
import { knownSecretCount, MAX_KNOWN_SECRETS, redactSecrets, registerSecret } from "~/logger.server";
import { ANSWER_READ_LIMIT, createRefersionClient } from "~/refersion/client.server";

describe("the logger's secrets to mask", () => {
  it("stay bounded however many are registered, and the most recently used are still masked", () => {
    for (let i = 0; i < MAX_KNOWN_SECRETS * 5; i++) registerSecret(`secret-key-number-${i}`);
    expect(knownSecretCount()).toBeLessThanOrEqual(MAX_KNOWN_SECRETS);
    const last = `secret-key-number-${MAX_KNOWN_SECRETS * 5 - 1}`;
    expect(redactSecrets(`the key is ${last}`)).toBe("the key is [redacted]");
    // A secret read again is registered again, and masked again.
    registerSecret("secret-key-number-0");
    expect(redactSecrets("secret-key-number-0")).toBe("[redacted]");
  });
});

describe("Refersion's answers", () => {
  /** An answer that never ends, counting what the client pulled from it. */
  function endlessAnswer(status: number, start: string) {
    let pulled = 0;
    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(start));
      },
      pull(controller) {
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    return { response: new Response(body, { status }), pulled: () => pulled };
  }

  const clientAnswering = (response: Response) =>
    createRefersionClient({
      webhookUrl: "https://refersion.test/tracker/orders/paid",
      apiUrl: "https://refersion.test/v2",
      keys: { publicKey: "pub_key_123", secretKey: "sec_key_456789" },
      timeoutMs: 5_000,
      fetch: async () => response,
    });

  it("are read up to a cap, whatever their size; only an excerpt is kept", async () => {
    const success = endlessAnswer(200, '{"status":"ok","echo":"sec_key_456789"');
    const reply = await clientAnswering(success.response).listAffiliates();
    expect(success.pulled()).toBeLessThanOrEqual(ANSWER_READ_LIMIT + 64 * 1024);
    expect(reply.excerpt.length).toBeLessThanOrEqual(501);
    expect(reply.excerpt).not.toContain("sec_key_456789");

    const failure = endlessAnswer(503, "Service Unavailable ");
    const error = await clientAnswering(failure.response).listAffiliates().catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ kind: "http", retryable: true, status: 503 });
    expect(failure.pulled()).toBeLessThanOrEqual(ANSWER_READ_LIMIT + 64 * 1024);
  });

  it("a small answer is still read whole: an error in a 2xx body is found", async () => {
    await expect(clientAnswering(new Response('{"error":"Invalid key"}', { status: 200 })).listAffiliates()).rejects.toMatchObject({ kind: "error_body", retryable: false });
  });
});
