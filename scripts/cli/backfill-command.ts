/**
 * `npm run -s shop -- backfill SHOP --since YYYY-MM-DD [--until YYYY-MM-DD]`: resends a shop's
 * past orders of those days (UTC, both included) from this process, with a progress bar. It
 * needs the shop's offline session (stored when the app was installed) and the same
 * environment as the app, the Shopify credentials included: everything is checked before a job
 * is created, so a missing variable or refused access leaves none behind. The orders are
 * recorded in the outbox; the app's delivery worker sends them.
 *
 * On a SQLite file (DATABASE_URL file:) the app is the one process on the file
 * (docs/decisions/0009-sqlite-single-process.md): the command only creates the job and follows its
 * progress from the database while the app's own runner (`npm start`) reads the orders. Ctrl-C
 * stops following; the app goes on with the job.
 *
 * On PostgreSQL the job runs in this process. When the shop already has a job running (started
 * from the admin, or by an earlier command that was interrupted), the command follows that job,
 * and takes it over once its process is gone. Ctrl-C stops after the current order; the same
 * command goes on later.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { BackfillJob } from "@prisma/client";
import { countOf } from "../../app/admin/plural";
import { createProgressPrinter } from "./backfill-progress";

export async function runBackfillCommand(shop: string, options: { since?: string; until?: string }): Promise<number> {
  const { backfillFormErrors, backfillFormSchema } = await import("../../app/backfill/backfill-form");
  if (!options.since) {
    console.error("Name the first day: --since YYYY-MM-DD");
    return 1;
  }
  const form = backfillFormSchema().safeParse({ since: options.since, until: options.until ?? "" });
  if (!form.success) {
    console.error(Object.values(backfillFormErrors(form.error)).join("; "));
    return 1;
  }
  // The job runs here on the app's own modules (its runner, Shopify's library configured as the
  // app, the outbox), which parse the whole environment when they load: unlike the other shop
  // commands, this one needs all of it, checked before anything is changed.
  const { EnvError, env } = await import("../../app/env.server");
  try {
    env();
  } catch (error) {
    if (!(error instanceof EnvError)) throw error;
    console.error(
      `backfill reads the shop's orders through Shopify's Admin API as the app, and records them as the app does, so it needs the app's environment.\n${error.message}`,
    );
    return 1;
  }

  const prisma = (await import("../../app/db.server")).default;
  const { latestBackfillJob, progressOf, startBackfill } = await import("../../app/backfill/backfill.server");
  const { createConfiguredBackfillRunner } = await import("../../app/background/background-work.server");
  const { offlineAccess } = await import("../../app/shopify.server");
  const { OfflineAccessError } = await import("../../app/shops/offline-access.server");

  const session = await prisma.session.findFirst({ where: { shop, isOnline: false }, select: { id: true } });
  if (!session) {
    console.error(`${shop} has no stored offline session: install the app on the shop (or open it from the shop's admin) first`);
    return 1;
  }
  // The shop's token, renewed now if it is due (the job would renew it first anyway). Refused
  // credentials of the app, or access only the merchant can renew, are for the operator to hear
  // now rather than a job left paused or failed; Shopify unreachable is not: the job waits for it.
  try {
    await offlineAccess.sessionFor(shop);
  } catch (error) {
    if (!(error instanceof OfflineAccessError)) throw error;
    if (error.failure === "app_credentials_rejected") {
      console.error(
        "Shopify did not accept the app's credentials: check SHOPIFY_API_KEY and SHOPIFY_API_SECRET " +
          "(a rotated secret must be set here as in the app). Nothing was started.",
      );
      return 1;
    }
    if (error.needsMerchant) {
      console.error(`${error.message} The merchant must open the app from ${shop}'s Shopify admin (or install it again) first. Nothing was started.`);
      return 1;
    }
  }

  const { job, created } = await startBackfill(shop, form.data);
  const range = (p: { since: string; until: string | null }) => `${p.since} to ${p.until ?? "now"}`;
  const started = progressOf(job);
  console.error(created ? `Resending ${shop}'s orders from ${range(started)}` : `${shop} already has a job (orders from ${range(started)}): following it`);

  const printer = createProgressPrinter(process.stderr);
  const show = (row: BackfillJob) => printer.update(progressOf(row));
  const { providerFor } = await import("../../app/database/driver-adapter");
  if (providerFor(env().DATABASE_URL) === "sqlite") return followInTheApp(shop, printer, show);

  const runner = createConfiguredBackfillRunner({ onProgress: show });
  let interrupted = false;
  const interrupt = () => {
    interrupted = true;
    void runner.stop();
  };
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);

  try {
    for (;;) {
      // Runs the job here, unless another live process holds it: then its progress is shown.
      await runner.runOnce(job.id);
      const current = (await latestBackfillJob(shop))!;
      show(current);
      if (current.status === "done" || current.status === "failed" || interrupted) break;
      await sleep(1_000);
    }
  } finally {
    process.removeListener("SIGINT", interrupt);
    process.removeListener("SIGTERM", interrupt);
    printer.finish();
  }

  const final = progressOf((await latestBackfillJob(shop))!);
  if (final.status === "done") {
    console.log(`${countOf(final.processed, "order")} read, ${final.enqueued} queued for Refersion (the app's delivery worker sends them)`);
    return 0;
  }
  if (final.status === "failed") {
    console.error(`Failed: ${final.error}`);
    return 1;
  }
  console.error(`Stopped after ${countOf(final.processed, "order")}; run the same command again to go on`);
  return 130;
}

/** Progress that shows nobody runs the job: the app is probably not started. */
const NO_PROGRESS_HINT_MS = 30_000;

/**
 * SQLite: the app's runner executes the job, this process only reads its row. A second process
 * running the job would be a second long-lived writer on the file, which the app rules out.
 */
async function followInTheApp(shop: string, printer: ReturnType<typeof createProgressPrinter>, show: (row: BackfillJob) => void): Promise<number> {
  const { latestBackfillJob, progressOf } = await import("../../app/backfill/backfill.server");
  console.error(
    "On a SQLite database the app's own runner (npm start) reads the orders; this command follows its progress from the database. Ctrl-C stops following, not the job.",
  );
  let interrupted = false;
  const interrupt = () => (interrupted = true);
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);
  let last = "";
  let changedAt = Date.now();
  let hinted = false;
  let current: BackfillJob;
  try {
    for (;;) {
      current = (await latestBackfillJob(shop))!;
      show(current);
      if (current.status === "done" || current.status === "failed" || interrupted) break;
      const seen = `${current.status} ${current.processed} ${current.updatedAt.getTime()}`;
      if (seen !== last) {
        last = seen;
        changedAt = Date.now();
      } else if (!hinted && Date.now() - changedAt >= NO_PROGRESS_HINT_MS) {
        hinted = true;
        printer.finish();
        console.error("No progress yet: start the app (npm start) on this database; it runs the job.");
      }
      await sleep(500);
    }
  } finally {
    process.removeListener("SIGINT", interrupt);
    process.removeListener("SIGTERM", interrupt);
    printer.finish();
  }
  const final = progressOf(current);
  if (final.status === "done") {
    console.log(`${countOf(final.processed, "order")} read, ${final.enqueued} queued for Refersion (the app's delivery worker sends them)`);
    return 0;
  }
  if (final.status === "failed") {
    console.error(`Failed: ${final.error}`);
    return 1;
  }
  console.error(`Stopped following after ${countOf(final.processed, "order")}; the app goes on with the job (its progress shows in the admin)`);
  return 130;
}
