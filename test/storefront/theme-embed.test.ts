import { embedStateInSettings, parseSettingsData, themeEditorEmbedUrl } from "~/storefront/theme-embed.server";
import { classifyConnectionFailure } from "~/settings/connection-check.server";
import { RefersionError } from "~/refersion/client.server";
import { settingsDataFile } from "../../scripts/shopify-admin-standin";

describe("settings_data.json", () => {
  it("parses the file Shopify writes, comment block first", () => {
    const text = settingsDataFile("enabled");
    expect(text.startsWith("/*")).toBe(true);
    expect(() => JSON.parse(text)).toThrow();
    expect(parseSettingsData(text)).toMatchObject({ current: { blocks: expect.any(Object) } });
  });

  it("parses plain JSON, a byte-order mark and line comments too", () => {
    expect(parseSettingsData('\uFEFF// note\n{"current":{}}')).toEqual({ current: {} });
    expect(parseSettingsData('{"current":"Default"}')).toEqual({ current: "Default" });
  });

  it.each(["enabled", "disabled", "not_added"] as const)("finds the embed %s", (state) => {
    expect(embedStateInSettings(parseSettingsData(settingsDataFile(state)))).toBe(state);
  });

  it("ignores other apps' embeds and blocks whose handle only resembles ours", () => {
    const settings = {
      current: {
        blocks: {
          a: { type: "shopify://apps/other/blocks/refersion-tracking-lite/1", disabled: false },
          b: { type: "shopify://apps/other/blocks/chat/2", disabled: false },
        },
      },
    };
    expect(embedStateInSettings(settings)).toBe("not_added");
  });

  it("reads the blocks of the preset a legacy theme names as current", () => {
    const settings = {
      current: "Default",
      presets: { Default: { blocks: { x: { type: "shopify://apps/any-handle/blocks/refersion-tracking/uuid", disabled: false } } } },
    };
    expect(embedStateInSettings(settings)).toBe("enabled");
  });

  it.each([null, 42, "text", {}, { current: null }, { current: { blocks: [] } }])("treats %j as not added", (value) => {
    expect(embedStateInSettings(value)).toBe("not_added");
  });
});

describe("theme editor deep link", () => {
  it("opens the app embeds panel of the live theme with our embed switched on", () => {
    expect(themeEditorEmbedUrl("shop-one.myshopify.com", "abc123")).toBe(
      "https://shop-one.myshopify.com/admin/themes/current/editor?context=apps&template=index&activateAppId=abc123/refersion-tracking",
    );
  });
});

describe("connection check outcomes", () => {
  const failure = (kind: RefersionError["kind"], status: number | null, retryable: boolean, excerpt = "") =>
    new RefersionError("x", kind, retryable, 10, status, excerpt);

  it.each([
    ["a network error", failure("network", null, true), "unreachable"],
    ["a timeout", failure("timeout", null, true), "unreachable"],
    ["503", failure("http", 503, true), "unreachable"],
    ["429", failure("http", 429, true), "unreachable"],
    ["401", failure("http", 401, false), "rejected"],
    ["403", failure("http", 403, false), "plan_unavailable"],
    ["404", failure("http", 404, false), "plan_unavailable"],
    ["a 2xx naming bad credentials", failure("error_body", 204, false, '{"error":"Invalid API credentials (error 2)."}'), "rejected"],
    ["a 2xx with another error", failure("error_body", 200, false, '{"error":"Not allowed"}'), "plan_unavailable"],
    ["something that is not a Refersion error", new Error("boom"), "unreachable"],
  ])("sorts %s as %s", (_name, error, expected) => {
    expect(classifyConnectionFailure(error)).toBe(expected);
  });
});
