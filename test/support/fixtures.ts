import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Real Shopify order payloads, part of the repository (test/fixtures/orders/, sources and the
 * personal data replaced in its SOURCES.md). Located from this file, not from the working
 * directory, so every test, script and benchmark finds them wherever it is started.
 */
/** The order of Shopify's documentation, the one most tests send. */
export const DOCS_ORDER = "shopify-docs-order-1001-2026-07.json";

export const ORDER_FIXTURES_DIR = fileURLToPath(new URL("../fixtures/orders/", import.meta.url));

export function orderFixtureNames(): string[] {
  return fs.readdirSync(ORDER_FIXTURES_DIR).filter((name) => name.endsWith(".json")).sort();
}

/** The raw text of a fixture, exactly as published (ids beyond 2^53 intact). */
export function orderFixtureText(name: string): string {
  return fs.readFileSync(path.join(ORDER_FIXTURES_DIR, name), "utf8");
}

export function orderFixture(name: string): Record<string, unknown> {
  return JSON.parse(orderFixtureText(name));
}
