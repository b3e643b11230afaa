/**
 * One "app instance" for two-processes.test.ts: a separate Node process with its own Prisma
 * client (built exactly as app/db.server.ts builds it) on a shared database.
 *
 *   tsx test/database/instance-process.ts <DATABASE_URL> <owner> <orders>
 *
 * Prints "ready" once connected, waits for a line on stdin (so both instances start together),
 * then, like the webhook route and the worker would:
 *  - records orders 0..<orders>-1 (the other instance records the same ones: duplicates);
 *  - claims every due row it can with the worker's conditional update;
 * and prints one JSON line: { created, duplicates, claimed: [ids], errors: [messages] }.
 */
import readline from "node:readline";
import { createPrismaClient } from "../../app/database/prisma-clients";
import { isUniqueViolation } from "../../app/database/unique-violation";

const [url, owner, ordersArg] = process.argv.slice(2);
const orders = Number(ordersArg);
const prisma = createPrismaClient(url);
const errors: string[] = [];
const describe = (error: unknown) => (error instanceof Error ? error.message : String(error)).slice(0, 300);

async function lanes(count: number, items: number[] | string[], work: (item: never) => Promise<void>) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: count }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item as never);
    }),
  );
}

async function main() {
  await prisma.$queryRaw`SELECT 1`;
  console.log("ready");
  await new Promise<void>((resolve) => readline.createInterface({ input: process.stdin }).once("line", () => resolve()));

  let created = 0;
  let duplicates = 0;
  await lanes(4, Array.from({ length: orders }, (_, index) => index), async (index: number) => {
    try {
      await prisma.delivery.create({
        data: { shop: "processes.myshopify.com", orderId: String(index), status: "pending", webhookId: `${owner}-${index}` },
      });
      created += 1;
    } catch (error) {
      if (isUniqueViolation(error)) duplicates += 1;
      else errors.push(`create: ${describe(error)}`);
    }
  });

  // Both instances now claim every row; each row can be won once.
  const claimed: string[] = [];
  for (let pass = 0; pass < 3; pass += 1) {
    const now = new Date();
    const due = await prisma.delivery.findMany({
      where: { status: "pending", OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }] },
      select: { id: true },
    });
    await lanes(4, due.map((row) => row.id), async (id: string) => {
      try {
        const { count } = await prisma.delivery.updateMany({
          where: { id, status: { in: ["pending", "retrying"] }, nextAttemptAt: { lte: now }, OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }] },
          data: { leaseOwner: owner, leaseUntil: new Date(now.getTime() + 600_000) },
        });
        if (count === 1) claimed.push(id);
      } catch (error) {
        errors.push(`claim: ${describe(error)}`);
      }
    });
  }

  console.log(JSON.stringify({ created, duplicates, claimed, errors }));
}

main()
  .catch((error) => {
    console.log(JSON.stringify({ created: 0, duplicates: 0, claimed: [], errors: [`fatal: ${describe(error)}`] }));
    process.exitCode = 1;
  })
  .finally(() => prisma.$disconnect());
