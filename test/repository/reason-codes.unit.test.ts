/**
 * Rewording a message must not change what the app does. Reasons and statuses are enums of the
 * schema; their sentences live in one table (app/admin/delivery-reasons.ts) that only the admin
 * and the command line read. These checks fail when
 *  - a reason code of the schema has no sentence (or the table names a code the schema lacks);
 *  - one of those sentences is written anywhere else in the app, where code could compare it;
 *  - code filters or branches on the free-text detail, or on a `reason` text column again.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AttemptOutcome, BackfillStatus, DeliveryReason, DeliveryStatus } from "@prisma/client";
import { REASON_SENTENCES, STATUS_LABELS, WAITING_FOR_PREDECESSOR, describeReason } from "~/admin/delivery-reasons";
import { DELIVERY_STATUSES } from "~/outbox/delivery-status";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TABLE = "app/admin/delivery-reasons.ts";

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(relative);
    return /\.(ts|tsx|mjs)$/.test(entry.name) ? [relative] : [];
  });
}

const APP_FILES = [...sourceFiles("app"), ...sourceFiles("server"), ...sourceFiles("scripts")];
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

describe("reason codes and their sentences", () => {
  it("every reason code of the schema has exactly one sentence, and the table names no other code", () => {
    expect(Object.keys(REASON_SENTENCES).sort()).toEqual(Object.values(DeliveryReason).sort());
    for (const code of Object.values(DeliveryReason)) {
      const sentence = describeReason(code, "the detail");
      expect(sentence, code).toMatch(/\S/);
      expect(sentence, code).not.toMatch(/undefined|null/);
    }
  });

  it("every status of the schema has a label, in the order the admin shows them", () => {
    expect([...DELIVERY_STATUSES].sort()).toEqual(Object.values(DeliveryStatus).sort());
    for (const status of DELIVERY_STATUSES) expect(STATUS_LABELS[status], status).toMatch(/\S/);
    expect(Object.values(AttemptOutcome).sort()).toEqual(["delivered", "permanent", "retry"]);
    expect(Object.values(BackfillStatus).sort()).toEqual(["done", "failed", "queued", "running"]);
  });

  it("no sentence of the table is written anywhere else in the app, so no code can compare it", () => {
    const sentences = [...Object.values(DeliveryReason).map((code) => REASON_SENTENCES[code](null)), WAITING_FOR_PREDECESSOR]
      // Sentences that are the detail itself have no fixed text to look for.
      .filter((sentence) => sentence.length > 30);
    const found = APP_FILES.filter((file) => file !== TABLE).flatMap((file) => {
      const text = read(file);
      return sentences.filter((sentence) => text.includes(sentence)).map((sentence) => `${file}: "${sentence}"`);
    });
    expect(found).toEqual([]);
  });

  it("no query or branch reads the free-text detail, and the Delivery model has no reason text column", () => {
    const schema = read("prisma/schema.prisma");
    const delivery = /model Delivery \{([\s\S]*?)\n\}/.exec(schema)![1];
    expect(delivery).not.toMatch(/^\s+reason\s/m);
    expect(delivery).toMatch(/^\s+reasonCode\s+DeliveryReason\?/m);

    const offending = APP_FILES.flatMap((file) =>
      read(file)
        .split("\n")
        .map((line, index) => ({ line: line.trim(), at: `${file}:${index + 1}` }))
        .filter(({ line }) =>
          // A filter on the detail (`reasonDetail: { ... }` or `reasonDetail: row.reasonDetail` in a where),
          // a comparison of it, or a match against it.
          /reasonDetail\s*(===|!==|==|!=)|(===|!==)\s*\w+(\.|\?\.)reasonDetail\b|reasonDetail:\s*\{|reasonDetail\??\.(match|includes|startsWith|endsWith|test)\(|where:[^;]*reasonDetail/.test(line) ||
          // A `reason` text compared with a string literal, the way rows used to be matched.
          /\breason\s*(===|!==)\s*["'`]|["'`]\s*(===|!==)\s*\w+\.reason\b/.test(line),
        )
        .map(({ at, line }) => `${at}: ${line}`),
    );
    expect(offending).toEqual([]);
  });
});
