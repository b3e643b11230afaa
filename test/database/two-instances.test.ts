/**
 * Two app instances sharing one database, simulated by two PrismaClients (each with its own
 * connection or pool, as two processes would have): every outbox row is claimed and delivered
 * exactly once, and a webhook delivered to both instances at once is recorded once.
 * PostgreSQL only: SQLite serves one process (docs/decisions/0009-sqlite-single-process.md).
 */
import type { PrismaClient } from "@prisma/client";
import { createDeliveryWorker } from "~/outbox/worker.server";
import { isUniqueViolation } from "~/database/unique-violation";
import type { Logger } from "~/logger.server";
import { openProvider, type ProviderHarness } from "./providers";

const ROWS = 200;
const SHOP = "race.myshopify.com";

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

async function seedDueRows(prisma: PrismaClient, count: number, at: Date) {
  await prisma.delivery.createMany({
    data: Array.from({ length: count }, (_, index) => ({
      shop: SHOP,
      orderId: String(10_000 + index),
      status: "pending",
      nextAttemptAt: at,
      requestBody: JSON.stringify({ order_id: String(10_000 + index) }),
    })),
  });
}

describe("two instances sharing postgresql", () => {
  let harness: ProviderHarness;
  let instanceA: PrismaClient;
  let instanceB: PrismaClient;

  beforeAll(async () => {
    harness = await openProvider("postgresql");
    const url = await harness.freshDatabase();
    instanceA = harness.client(url);
    instanceB = harness.client(url);
  }, 180_000);
  afterAll(async () => {
    await harness?.close();
  });
  beforeEach(async () => {
    await instanceA.deliveryAttempt.deleteMany();
    await instanceA.delivery.deleteMany();
  });

  it(`claims each of ${ROWS} rows exactly once when both race with the worker's conditional update`, async () => {
    const now = new Date();
    await seedDueRows(instanceA, ROWS, now);
    const ids = (await instanceA.delivery.findMany({ select: { id: true } })).map((row) => row.id);
    expect(ids).toHaveLength(ROWS);

    const claimAll = async (prisma: PrismaClient, owner: string, order: string[]) => {
      const won: string[] = [];
      // Several claims in flight per instance, like the worker's lanes.
      const queue = [...order];
      const lane = async () => {
        for (let id = queue.shift(); id; id = queue.shift()) {
          const { count } = await prisma.delivery.updateMany({
            where: {
              id,
              status: { in: ["pending", "retrying"] },
              nextAttemptAt: { lte: now },
              OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }],
            },
            data: { leaseOwner: owner, leaseUntil: new Date(now.getTime() + 60_000) },
          });
          if (count === 1) won.push(id);
        }
      };
      await Promise.all(Array.from({ length: 8 }, lane));
      return won;
    };

    // Both instances try every row: one in order, one in reverse, so they meet in the middle
    // and then keep colliding on rows the other already holds.
    const [wonByA, wonByB] = await Promise.all([
      claimAll(instanceA, "instance-a", ids),
      claimAll(instanceB, "instance-b", [...ids].reverse()),
    ]);

    expect(wonByA.length + wonByB.length).toBe(ROWS);
    expect(new Set([...wonByA, ...wonByB]).size).toBe(ROWS);
    expect(wonByA.length).toBeGreaterThan(0);
    expect(wonByB.length).toBeGreaterThan(0);
    const owners = await instanceA.delivery.groupBy({ by: ["leaseOwner"], _count: { _all: true } });
    const byOwner = Object.fromEntries(owners.map((row) => [row.leaseOwner, row._count._all]));
    expect(byOwner).toEqual({ "instance-a": wonByA.length, "instance-b": wonByB.length });
  });

  it(`delivers each of ${ROWS} orders exactly once with two delivery workers running at once`, async () => {
    await seedDueRows(instanceA, ROWS, new Date(Date.now() - 1_000));
    const sent = new Map<string, number>();
    const fakeRefersion: typeof fetch = async (_url, init) => {
      const orderId = (JSON.parse(String(init?.body)) as { order_id: string }).order_id;
      sent.set(orderId, (sent.get(orderId) ?? 0) + 1);
      // A little latency, so the two workers' passes overlap.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
      return new Response('{"status":"ok"}', { status: 200, headers: { "Content-Type": "application/json" } });
    };
    const workerOn = (prisma: PrismaClient, owner: string) =>
      createDeliveryWorker({
        prisma,
        owner,
        logger: silent,
        fetch: fakeRefersion,
        gate: async () => ({ open: true, keys: { publicKey: "pub_race", secretKey: "sec_race_secret" } }),
        config: {
          webhookUrl: "http://127.0.0.1:9/tracker/orders/paid",
          apiUrl: "http://127.0.0.1:9/v2",
          timeoutMs: 5_000,
          retryBaseMs: 30_000,
          leaseMs: 60_000,
          concurrency: 4,
          pollMs: 10,
        },
      });

    const [byA, byB] = await Promise.all([workerOn(instanceA, "worker-a").drain(), workerOn(instanceB, "worker-b").drain()]);

    expect(byA + byB).toBe(ROWS);
    expect(sent.size).toBe(ROWS);
    expect([...sent.values()].every((times) => times === 1)).toBe(true);
    expect(await instanceA.delivery.count({ where: { status: "delivered", attempts: 1, leaseOwner: null } })).toBe(ROWS);
    expect(await instanceA.deliveryAttempt.count()).toBe(ROWS);
  });

  it("records a webhook delivered to both instances at once exactly once (unique constraint)", async () => {
    const attempts = Array.from({ length: 20 }, (_, index) => ({ prisma: index % 2 ? instanceA : instanceB, index }));
    const outcomes = await Promise.all(
      attempts.map(({ prisma, index }) =>
        prisma.delivery
          .create({ data: { shop: SHOP, orderId: "777", status: "pending", webhookId: `webhook-${index}` } })
          .then(
            () => "created" as const,
            (error: unknown) => (isUniqueViolation(error) ? ("duplicate" as const) : error),
          ),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === "created")).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === "duplicate")).toHaveLength(19);
    expect(await instanceA.delivery.count({ where: { shop: SHOP, orderId: "777" } })).toBe(1);
  });
});
