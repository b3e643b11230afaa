import fs from "node:fs";
import { execFileSync } from "node:child_process";
const db = "/tmp/pt/probe4.sqlite";
for (const s of ["", "-wal", "-shm"]) fs.rmSync(db + s, { force: true });
Object.assign(process.env, { NODE_ENV: "production", SHOPIFY_API_KEY: "k", SHOPIFY_API_SECRET: "s", SHOPIFY_APP_URL: "https://x.invalid", DATABASE_URL: `file:${db}`, APP_ENCRYPTION_KEY: "1".repeat(64), LOG_LEVEL: "silent" });
execFileSync("npx", ["prisma", "migrate", "deploy"], { stdio: "ignore" });
const { BusyTolerantClient } = await import("../../app/database/sqlite-adapter");
const counts: string[] = [];
const P = BusyTolerantClient.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const m of ["execute", "batch", "transaction"]) {
  const orig = P[m];
  P[m] = function (this: unknown, ...a: unknown[]) { counts.push(m); return orig.apply(this, a); };
}
const prisma = (await import("../../app/db.server")).default;
const ids: string[] = [];
for (let i = 0; i < 5; i++) ids.push((await prisma.delivery.create({ data: { shop: "b", orderId: String(i), status: "pending" }, select: { id: true } })).id);
const show = async (label: string, fn: () => Promise<unknown>) => { counts.length = 0; await fn(); console.log(label, counts.join(",")); };
await show("updateMany", () => prisma.delivery.updateMany({ where: { id: ids[0] }, data: { attempts: 1 } }));
await show("update", () => prisma.delivery.update({ where: { id: ids[0] }, data: { attempts: 1 } }));
await show("create", () => prisma.delivery.create({ data: { shop: "b", orderId: "x", status: "pending" }, select: { id: true } }));
await show("createMany", () => prisma.deliveryAttempt.createMany({ data: [{ deliveryId: ids[0], shop: "b", startedAt: new Date(), durationMs: 1, outcome: "delivered" }] }));
await show("$transaction([createMany, updateMany x3])", () => prisma.$transaction([
  prisma.deliveryAttempt.createMany({ data: [{ deliveryId: ids[0], shop: "b", startedAt: new Date(), durationMs: 1, outcome: "delivered" }] }),
  prisma.delivery.updateMany({ where: { id: ids[1] }, data: { attempts: 1 } }),
  prisma.delivery.updateMany({ where: { id: ids[2] }, data: { attempts: 1 } }),
  prisma.delivery.updateMany({ where: { id: ids[3] }, data: { attempts: 1 } }),
]));
await show("findMany", () => prisma.delivery.findMany({ where: { id: { in: ids } } }));
