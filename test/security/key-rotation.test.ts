/**
 * Rotating APP_ENCRYPTION_KEY: every stored Refersion secret sealed with another key is sealed
 * again with the current one, the old ciphertext is useless without the old key, and orders
 * are still delivered with the right secret afterwards. Also: the worker's log lines are
 * structured and carry the shop and order ids, and never a secret.
 */
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import { promisify } from "node:util";

vi.hoisted(() => {
  process.env.LOG_LEVEL = "debug";
});

import prisma from "~/db.server";
import { createConfiguredWorker } from "~/background/background-work.server";
import { setLogSink } from "~/logger.server";
import { rotateEncryptionKey } from "~/settings/key-rotation.server";
import { keyIdOf, openSecret, sealSecret, SecretBoxError } from "~/settings/secret-box.server";
import { getShopSettings, refersionKeysOf } from "~/settings/shop-settings.server";
import { DEFAULT_SANDBOX_KEYS, startRefersionSandbox, type RefersionSandbox } from "../../scripts/refersion-sandbox";
import { deliveryOf, enqueueFixtureOrder } from "../support/outbox";
import { TEST_ENV } from "../support/test-env";

const run = promisify(execFile);

const OLD_KEY = crypto.randomBytes(32).toString("hex");
const CURRENT_KEY = TEST_ENV.APP_ENCRYPTION_KEY; // what this process's env() holds
const UNKNOWN_KEY = crypto.randomBytes(32).toString("hex");

const SECOND = { publicKey: "pub_rotation_second", secretKey: "sec_rotation_second_0123456789" };
const LOST = { publicKey: "pub_rotation_lost", secretKey: "sec_rotation_lost_9876543210" };
const SHOPS = {
  old: "rotation-old.myshopify.com",
  second: "rotation-second.myshopify.com",
  current: "rotation-current.myshopify.com",
  lost: "rotation-lost.myshopify.com",
};

const logLines: string[] = [];
setLogSink((line) => logLines.push(line));

async function storeSealed(shop: string, keys: { publicKey: string; secretKey: string }, keyHex: string) {
  const sealed = sealSecret(keys.secretKey, keyHex);
  await prisma.shopSettings.create({
    data: {
      shop,
      publicKey: keys.publicKey,
      secretKeyCiphertext: sealed.ciphertext,
      secretKeyKeyId: sealed.keyId,
      secretKeyLast4: keys.secretKey.slice(-4),
      forwardTestOrders: true,
    },
  });
}

function settingsRows() {
  return prisma.shopSettings.findMany({ orderBy: { shop: "asc" } });
}

/** `npm run -s shop -- ARGS` with the given keys in the environment. */
async function cli(args: string[], keys: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", "scripts/shop-cli.ts", ...args], {
      env: { PATH: process.env.PATH ?? "", ...TEST_ENV, DATABASE_URL: process.env.DATABASE_URL!, ...keys },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

let sandbox: RefersionSandbox;

beforeAll(async () => {
  sandbox = await startRefersionSandbox({ keys: [DEFAULT_SANDBOX_KEYS, SECOND] });
});
afterAll(async () => {
  await sandbox.close();
});

beforeEach(async () => {
  sandbox.reset();
  logLines.length = 0;
  await prisma.deliveryAttempt.deleteMany();
  await prisma.delivery.deleteMany();
  await prisma.shopSettings.deleteMany();
  await storeSealed(SHOPS.old, DEFAULT_SANDBOX_KEYS, OLD_KEY);
  await storeSealed(SHOPS.second, SECOND, OLD_KEY);
  await storeSealed(SHOPS.current, { publicKey: "pub_rotation_current", secretKey: "sec_rotation_current_000111" }, CURRENT_KEY);
  await storeSealed(SHOPS.lost, LOST, UNKNOWN_KEY);
});

describe("rotating the encryption key", () => {
  it("re-encrypts every secret sealed with the previous key; the old ciphertext cannot be read without it", async () => {
    const before = await settingsRows();
    // Without APP_ENCRYPTION_KEY_PREVIOUS (this process has none), an old secret cannot be opened.
    expect(() => refersionKeysOf(before.find((row) => row.shop === SHOPS.old)!)).toThrow(SecretBoxError);

    const report = await rotateEncryptionKey({ currentKey: CURRENT_KEY, previousKeys: [OLD_KEY] });
    expect(report).toEqual({
      keyId: keyIdOf(CURRENT_KEY),
      examined: 4,
      reEncrypted: 2,
      alreadyCurrent: 1,
      failed: [{ shop: SHOPS.lost, keyId: keyIdOf(UNKNOWN_KEY), reason: expect.stringMatching(/not configured/) }],
    });

    const after = await settingsRows();
    for (const shop of [SHOPS.old, SHOPS.second]) {
      const old = before.find((row) => row.shop === shop)!;
      const now = after.find((row) => row.shop === shop)!;
      const plaintext = shop === SHOPS.old ? DEFAULT_SANDBOX_KEYS.secretKey : SECOND.secretKey;
      expect(now.secretKeyKeyId).toBe(keyIdOf(CURRENT_KEY));
      expect(now.secretKeyCiphertext).not.toBe(old.secretKeyCiphertext);
      expect(now.secretKeyCiphertext).not.toContain(plaintext);
      expect(openSecret({ ciphertext: now.secretKeyCiphertext!, keyId: now.secretKeyKeyId! }, [CURRENT_KEY])).toBe(plaintext);
      // The old ciphertext is useless with the current key alone, even labelled as sealed by it.
      const oldSealed = { ciphertext: old.secretKeyCiphertext!, keyId: old.secretKeyKeyId! };
      expect(() => openSecret(oldSealed, [CURRENT_KEY])).toThrow(SecretBoxError);
      expect(() => openSecret({ ...oldSealed, keyId: keyIdOf(CURRENT_KEY) }, [CURRENT_KEY])).toThrow(SecretBoxError);
      expect(openSecret(oldSealed, [OLD_KEY])).toBe(plaintext);
      // Everything else of the row is as it was.
      expect({ ...now, secretKeyCiphertext: null, secretKeyKeyId: null, updatedAt: null }).toEqual({
        ...old,
        secretKeyCiphertext: null,
        secretKeyKeyId: null,
        updatedAt: null,
      });
    }
    // Already current, and impossible to open: left exactly as they were.
    for (const shop of [SHOPS.current, SHOPS.lost]) {
      expect(after.find((row) => row.shop === shop)).toEqual(before.find((row) => row.shop === shop));
    }

    // Running it again changes nothing.
    const again = await rotateEncryptionKey({ currentKey: CURRENT_KEY, previousKeys: [OLD_KEY] });
    expect(again).toMatchObject({ examined: 4, reEncrypted: 0, alreadyCurrent: 3 });
    expect(await settingsRows()).toEqual(after);

    // The report's log lines name shops and key ids, never a key or a secret.
    const log = logLines.join("\n");
    expect(log).toMatch(/"msg":"encryption key rotation".*"reEncrypted":2/);
    expect(log).toContain(`"shop":"${SHOPS.lost}"`);
    for (const secret of [OLD_KEY, CURRENT_KEY, UNKNOWN_KEY, DEFAULT_SANDBOX_KEYS.secretKey, SECOND.secretKey, LOST.secretKey]) {
      expect(log).not.toContain(secret);
    }
  });

  it("leaves a secret alone that a merchant saved while the rotation ran", async () => {
    const saved = sealSecret("sec_saved_meanwhile_424242", CURRENT_KEY);
    let interfered = false;
    // The merchant's save lands between the rotation's read and its first write.
    const report = await rotateEncryptionKey({
      currentKey: CURRENT_KEY,
      previousKeys: [OLD_KEY],
      afterRead: async () => {
        interfered = true;
        await prisma.shopSettings.update({ where: { shop: SHOPS.old }, data: { secretKeyCiphertext: saved.ciphertext, secretKeyKeyId: saved.keyId } });
      },
    });
    expect(interfered).toBe(true);
    expect(report).toMatchObject({ reEncrypted: 1, alreadyCurrent: 2 });
    const row = await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOPS.old } });
    expect(row.secretKeyCiphertext).toBe(saved.ciphertext);
  });

  it("keeps orders flowing: after the rotation, a worker with only the new key delivers with the right secret", async () => {
    await rotateEncryptionKey({ currentKey: CURRENT_KEY, previousKeys: [OLD_KEY] });
    expect(refersionKeysOf(await getShopSettings(SHOPS.old))).toEqual(DEFAULT_SANDBOX_KEYS);

    await enqueueFixtureOrder(SHOPS.old, 6001);
    await enqueueFixtureOrder(SHOPS.second, 6002);
    const worker = createConfiguredWorker({
      config: { webhookUrl: sandbox.webhookUrl, apiUrl: sandbox.apiUrl, timeoutMs: 5_000, retryBaseMs: 1_000, leaseMs: 60_000, concurrency: 2, pollMs: 50 },
    });
    expect(await worker.drain()).toBe(2);

    // The stand-in accepts an order only when the secret matches the public key.
    expect(sandbox.received.filter((request) => !request.accepted)).toEqual([]);
    expect(
      sandbox
        .orders()
        .map((request) => [request.orderId, request.publicKey])
        .sort(),
    ).toEqual([
      ["6001", DEFAULT_SANDBOX_KEYS.publicKey],
      ["6002", SECOND.publicKey],
    ]);
    expect((await deliveryOf(SHOPS.old, "6001")).status).toBe("delivered");
    expect((await deliveryOf(SHOPS.second, "6002")).status).toBe("delivered");

    // Structured log lines: one JSON object per line, carrying the shop and the order.
    const attemptLines = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === "delivery attempt");
    expect(attemptLines).toHaveLength(2);
    for (const line of attemptLines) {
      expect(line).toMatchObject({ level: "info", outcome: "delivered", status: 200, attempt: 1 });
      expect(typeof line.time).toBe("string");
      expect(typeof line.deliveryId).toBe("string");
    }
    expect(attemptLines.map((line) => [line.shop, line.orderId]).sort()).toEqual([
      [SHOPS.old, "6001"],
      [SHOPS.second, "6002"],
    ]);
    const recorded = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === "order recorded");
    expect(recorded.map((line) => [line.shop, line.orderId]).sort()).toEqual([
      [SHOPS.old, "6001"],
      [SHOPS.second, "6002"],
    ]);
    for (const secret of [DEFAULT_SANDBOX_KEYS.secretKey, SECOND.secretKey, CURRENT_KEY, OLD_KEY]) expect(logLines.join("\n")).not.toContain(secret);
  });

  it("runs from the command line: `npm run -s shop -- rotate-encryption-key` reports counts and fails on what it cannot open", async () => {
    // The operator has set the new key and kept the old one as APP_ENCRYPTION_KEY_PREVIOUS.
    const first = await cli(["rotate-encryption-key"], { APP_ENCRYPTION_KEY: CURRENT_KEY, APP_ENCRYPTION_KEY_PREVIOUS: OLD_KEY });
    expect(first.stdout.split("\n")).toContain(
      `4 secrets examined: 2 re-encrypted with key ${keyIdOf(CURRENT_KEY)}, 1 already under it, 1 could not be opened`,
    );
    expect(first.stderr).toContain(`${SHOPS.lost}: The secret was encrypted with key ${keyIdOf(UNKNOWN_KEY)}`);
    expect(first.code).toBe(1);

    // The lost shop saves its keys again; then the rotation completes and the old key can go.
    await prisma.shopSettings.delete({ where: { shop: SHOPS.lost } });
    const second = await cli(["rotate-encryption-key"], { APP_ENCRYPTION_KEY: CURRENT_KEY });
    expect(second).toMatchObject({ code: 0, stderr: "" });
    expect(second.stdout.split("\n")).toContain(`3 secrets examined: 0 re-encrypted with key ${keyIdOf(CURRENT_KEY)}, 3 already under it, 0 could not be opened`);

    const rows = await settingsRows();
    expect(rows.map((row) => row.secretKeyKeyId)).toEqual(rows.map(() => keyIdOf(CURRENT_KEY)));
    for (const output of [first.stdout, first.stderr, second.stdout]) {
      for (const secret of [OLD_KEY, CURRENT_KEY, DEFAULT_SANDBOX_KEYS.secretKey, SECOND.secretKey, LOST.secretKey]) expect(output).not.toContain(secret);
    }
  }, 45_000);
});
