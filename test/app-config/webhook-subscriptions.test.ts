/**
 * The webhooks Shopify sends (shopify.app.toml) and the routes that receive them
 * (app/routes/webhooks.*.tsx) name the same topics: a subscription without a route would be
 * answered 404 by the app, and a route without a subscription would never be called.
 */
import fs from "node:fs";
import path from "node:path";

interface Subscription {
  topic: string;
  uri: string;
  compliance: boolean;
}

/** The [[webhooks.subscriptions]] of shopify.app.toml: one topic and one uri each, as this file writes them. */
function subscriptionsOf(toml: string): Subscription[] {
  const blocks = toml.split(/^\s*\[\[webhooks\.subscriptions\]\]\s*$/m).slice(1);
  return blocks.map((block) => {
    // A block ends where the next table starts.
    const body = block.split(/^\s*\[/m)[0];
    const topics = /^\s*(compliance_topics|topics)\s*=\s*\[\s*"([^"]+)"\s*\]/m.exec(body);
    const uri = /^\s*uri\s*=\s*"([^"]+)"/m.exec(body);
    if (!topics || !uri) throw new Error(`A webhook subscription this test cannot read:\n${body.trim()}`);
    return { topic: topics[2], uri: uri[1], compliance: topics[1] === "compliance_topics" };
  });
}

/** Remix's flat routes: each dot of the file name is a slash of the path. */
const WEBHOOK_ROUTES = fs
  .readdirSync(path.resolve("app/routes"))
  .filter((file) => /^webhooks\..+\.tsx?$/.test(file))
  .map((file) => ({ file, uri: "/" + file.replace(/\.tsx?$/, "").split(".").join("/") }));

const subscriptions = subscriptionsOf(fs.readFileSync(path.resolve("shopify.app.toml"), "utf8"));

describe("webhook subscriptions and routes", () => {
  it("subscribe every webhook route and route every subscription", () => {
    expect(subscriptions.map((subscription) => subscription.uri).sort()).toEqual(WEBHOOK_ROUTES.map((route) => route.uri).sort());
  });

  it("deliver each topic to /webhooks/<topic>", () => {
    for (const { topic, uri } of subscriptions) expect(uri).toBe(`/webhooks/${topic}`);
  });

  it("include Shopify's mandatory privacy topics, app/uninstalled and app/scopes_update", () => {
    expect(subscriptions.filter((subscription) => subscription.compliance).map((subscription) => subscription.topic).sort()).toEqual([
      "customers/data_request",
      "customers/redact",
      "shop/redact",
    ]);
    expect(subscriptions.map((subscription) => subscription.topic)).toEqual(expect.arrayContaining(["app/uninstalled", "app/scopes_update"]));
  });

  it.each(WEBHOOK_ROUTES)("$file handles POST (action) and refuses anything else (loader)", async ({ file }) => {
    const route = (await import(`../../app/routes/${file}`)) as { action?: unknown; loader?: unknown };
    expect(typeof route.action).toBe("function");
    expect(typeof route.loader).toBe("function");
  });
});
