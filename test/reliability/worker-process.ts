/**
 * One delivery worker in a process of its own, for two-workers.test.ts:
 *
 *   node --import tsx test/reliability/worker-process.ts
 *
 * Configured like the app, from the environment (DATABASE_URL, REFERSION_WEBHOOK_URL,
 * DELIVERY_* ...), named by WORKER_NAME. Prints "ready" once its database answers, starts the
 * worker loop when a line "go" arrives on stdin, stops it on "stop", and then prints one JSON
 * line: { delivered, attempted, problems } where problems are the error lines it logged.
 */
import readline from "node:readline";
import prisma from "../../app/db.server";
import { createConfiguredWorker } from "../../app/background/background-work.server";
import { setLogSink } from "../../app/logger.server";

const name = process.env.WORKER_NAME ?? `worker-${process.pid}`;
let attempted = 0;
let delivered = 0;
const problems: string[] = [];
setLogSink((line) => {
  const entry = JSON.parse(line) as { level: string; msg: string; outcome?: string };
  if (entry.msg === "delivery attempt") {
    attempted += 1;
    if (entry.outcome === "delivered") delivered += 1;
  }
  if (entry.level === "error" || entry.level === "warn") problems.push(line);
});

const worker = createConfiguredWorker({ owner: name });
await prisma.$queryRaw`SELECT 1`;
console.log("ready");

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line === "go") worker.start();
  if (line === "stop") break;
}
await worker.stop();
console.log(JSON.stringify({ delivered, attempted, problems }));
await prisma.$disconnect();
process.exit(0);
