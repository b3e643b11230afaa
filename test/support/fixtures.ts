import fs from "node:fs";
import path from "node:path";

/** The real Shopify order payloads shared beside the project (see their SOURCES.md). */
export const ORDER_FIXTURES_DIR = path.resolve("..", "shared", "fixtures", "orders");

export function orderFixtureNames(): string[] {
  if (!fs.existsSync(ORDER_FIXTURES_DIR)) {
    throw new Error(`Order fixtures not found at ${ORDER_FIXTURES_DIR}: the shared/ folder must sit beside the project`);
  }
  return fs.readdirSync(ORDER_FIXTURES_DIR).filter((name) => name.endsWith(".json")).sort();
}

/** The raw text of a fixture, exactly as published (ids beyond 2^53 intact). */
export function orderFixtureText(name: string): string {
  return fs.readFileSync(path.join(ORDER_FIXTURES_DIR, name), "utf8");
}

export function orderFixture(name: string): Record<string, unknown> {
  return JSON.parse(orderFixtureText(name));
}
