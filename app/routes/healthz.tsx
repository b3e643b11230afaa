import prisma from "../db.server";
import { checkHealth, stalledAfterMs } from "../database/health.server";
import { env } from "../env.server";
import { deliveryWorkerProbe } from "../background/background-work.server";
import { logger } from "../logger.server";

/**
 * GET /healthz, for load balancers and container health checks (no authentication, no shop
 * data): 200 {"status":"ok","database":"ok","worker":"running"|"off"} when the database answers
 * and the delivery worker has completed a pass recently (or is off by configuration);
 * 503 with "error" / "stalled" on the failing part otherwise.
 */
export const loader = async () => {
  const config = env();
  const report = await checkHealth({
    pingDatabase: () => prisma.$queryRaw`SELECT 1`,
    workerMode: config.DELIVERY_WORKER,
    worker: deliveryWorkerProbe(),
    stalledAfterMs: stalledAfterMs({ pollMs: config.DELIVERY_POLL_MS, timeoutMs: config.REFERSION_TIMEOUT_MS }),
    uptimeMs: process.uptime() * 1000,
    now: new Date(),
    onFailure: (part, detail) => logger.warn("health check failed", { part, detail }),
  });
  return new Response(JSON.stringify(report), {
    status: report.status === "ok" ? 200 : 503,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
  });
};

// Only GET is a health check.
export const action = () => new Response("GET only", { status: 405, headers: { Allow: "GET" } });
