/**
 * Lists of ids sent to the database as `IN (...)` go in batches of this size: SQLite refuses a
 * statement with more parameters than it allows (Prisma reports "the query parameter limit
 * supported by your database is exceeded" well below 10,000), and PostgreSQL plans very long
 * lists poorly. A compliance request may name thousands of orders.
 */
export const IN_LIST_BATCH = 500;

export function inBatches<T>(items: readonly T[], size = IN_LIST_BATCH): T[][] {
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += size) batches.push(items.slice(start, start + size));
  return batches;
}
