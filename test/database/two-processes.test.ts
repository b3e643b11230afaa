/**
 * Two real processes sharing one PostgreSQL database (test/database/instance-process.ts each):
 * both record the same orders and then race to claim them. Nothing fails, every order is
 * recorded once, and every row is claimed by exactly one process. PostgreSQL only: SQLite
 * serves one process (docs/decisions/0009-sqlite-single-process.md).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import type { PrismaClient } from "@prisma/client";
import { openProvider, type ProviderHarness } from "./providers";

const ORDERS = 150;
const TSX = path.resolve("node_modules/.bin/tsx");
const SCRIPT = path.resolve("test/database/instance-process.ts");

interface InstanceResult {
  created: number;
  duplicates: number;
  claimed: string[];
  errors: string[];
}

function startInstance(url: string, owner: string) {
  const child: ChildProcessWithoutNullStreams = spawn(TSX, [SCRIPT, url, owner, String(ORDERS)], {
    env: { ...process.env, LOG_LEVEL: "silent" },
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const lines = readline.createInterface({ input: child.stdout });
  const outcome = new Promise<{ ready: Promise<void>; result: Promise<InstanceResult> }>((resolve) => {
    let markReady!: () => void;
    let finish!: (result: InstanceResult) => void;
    let fail!: (error: Error) => void;
    const ready = new Promise<void>((done) => (markReady = done));
    const result = new Promise<InstanceResult>((done, reject) => {
      finish = done;
      fail = reject;
    });
    lines.on("line", (line) => {
      if (line === "ready") markReady();
      else if (line.startsWith("{")) finish(JSON.parse(line) as InstanceResult);
    });
    child.on("exit", (code) => fail(new Error(`${owner} exited with ${code} before reporting:\n${stderr.slice(-3000)}`)));
    resolve({ ready, result });
  });
  return { child, outcome };
}

describe("two processes sharing postgresql", () => {
  let harness: ProviderHarness;
  let url: string;
  let prisma: PrismaClient;

  beforeAll(async () => {
    harness = await openProvider("postgresql");
    url = await harness.freshDatabase();
    prisma = harness.client(url);
  }, 180_000);
  afterAll(async () => {
    await harness?.close();
  });

  it(`records ${ORDERS} orders once and claims each exactly once, with both processes racing`, async () => {
    const a = startInstance(url, "process-a");
    const b = startInstance(url, "process-b");
    try {
      const [outA, outB] = await Promise.all([a.outcome, b.outcome]);
      await Promise.all([outA.ready, outB.ready]);
      a.child.stdin.write("go\n");
      b.child.stdin.write("go\n");
      const [resultA, resultB] = await Promise.all([outA.result, outB.result]);

      expect(resultA.errors).toEqual([]);
      expect(resultB.errors).toEqual([]);
      expect(resultA.created + resultB.created).toBe(ORDERS);
      expect(resultA.duplicates + resultB.duplicates).toBe(ORDERS);
      expect(resultA.claimed.length + resultB.claimed.length).toBe(ORDERS);
      expect(new Set([...resultA.claimed, ...resultB.claimed]).size).toBe(ORDERS);

      expect(await prisma.delivery.count()).toBe(ORDERS);
      const owners = await prisma.delivery.groupBy({ by: ["leaseOwner"], _count: { _all: true } });
      expect(Object.fromEntries(owners.map((row) => [row.leaseOwner, row._count._all]))).toEqual(
        Object.fromEntries(
          [
            ["process-a", resultA.claimed.length],
            ["process-b", resultB.claimed.length],
          ].filter(([, count]) => count !== 0),
        ),
      );
    } finally {
      a.child.kill();
      b.child.kill();
    }
  }, 120_000);
});
