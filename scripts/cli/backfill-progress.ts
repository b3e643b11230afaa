import type { BackfillProgress } from "../../app/backfill/backfill.server";

/**
 * The terminal progress of a "resend past orders" job:
 *   [############------------------]  40%  48/120 orders read, 45 queued for Refersion
 * On a terminal the line is redrawn in place; elsewhere (a log file, CI) a line is printed
 * whenever the figures change.
 */
export function progressLine(progress: BackfillProgress, width = 30): string {
  const percent = progress.percent ?? 0;
  const filled = Math.round((percent / 100) * width);
  const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
  const read = progress.total === null ? `${progress.processed} orders read` : `${progress.processed}/${progress.total} orders read`;
  const paused = progress.status === "running" && progress.error ? ` (${progress.error})` : "";
  return `${bar} ${String(percent).padStart(3)}%  ${read}, ${progress.enqueued} queued for Refersion${paused}`;
}

export function createProgressPrinter(stream: NodeJS.WriteStream) {
  let last = "";
  let drawnLength = 0;
  return {
    update(progress: BackfillProgress) {
      const line = progressLine(progress);
      if (line === last) return;
      last = line;
      if (stream.isTTY) {
        stream.write(`\r${line.padEnd(drawnLength)}`);
        drawnLength = line.length;
      } else {
        stream.write(`${line}\n`);
      }
    },
    /** Ends the redrawn line, so what follows starts on a new one. */
    finish() {
      if (stream.isTTY && drawnLength > 0) stream.write("\n");
      drawnLength = 0;
    },
  };
}
