import type { GqlOrder } from "~/backfill/graphql-order";
import { parseOrderJson } from "~/refersion/shopify-order";
import { orderFixtureNames, orderFixtureText } from "../../support/fixtures";
import { graphqlOrderOf } from "../../support/shopify-graphql-standin";

type Json = Record<string, unknown>;

/** The fixtures an Admin API read can return (with *_set amounts; see graphql-order.test.ts). */
export function modernFixtures(): string[] {
  return orderFixtureNames().filter((name) => "total_price_set" in (parseOrderJson(orderFixtureText(name)) as Json));
}

/**
 * `count` past orders made from the real fixtures (cycled), each with its own id and name, created
 * one hour apart from `start`: live (not test) orders, not cancelled, paid unless told otherwise.
 */
export function pastOrders(count: number, options: { start: string; firstId: number; financialStatus?: string }): { rest: Json; graphql: GqlOrder }[] {
  const fixtures = modernFixtures();
  return Array.from({ length: count }, (_, index) => {
    const id = options.firstId + index;
    const rest = {
      ...(parseOrderJson(orderFixtureText(fixtures[index % fixtures.length])) as Json),
      id,
      admin_graphql_api_id: `gid://shopify/Order/${id}`,
      name: `#P${id}`,
      created_at: new Date(Date.parse(options.start) + index * 3_600_000).toISOString(),
      financial_status: options.financialStatus ?? "paid",
      cancelled_at: null,
      test: false,
    };
    return { rest, graphql: graphqlOrderOf(rest, String(id)) };
  });
}
