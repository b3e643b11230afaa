import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { DEFAULT_SANDBOX_KEYS } from "../../scripts/refersion-sandbox";
import { launchAdminBrowser, type AdminBrowser } from "../support/admin-browser";
import { startAdminHarness } from "../support/admin-harness";
import type { ProductionApp } from "../support/production-app";

/**
 * Every admin page, in each state a merchant meets it, in Chromium at a desktop width (1280 px)
 * and a phone's (390 px), on the production build with the Admin API and Refersion stand-ins:
 * no page scrolls sideways, no control touches the screen's edge or lacks a label, tables take
 * Polaris' small-screen layout on the phone, nothing fails in the page, and the words the merchant
 * needs are there. Each state's screenshot is written to test-results/admin/<state>-<width>.png
 * (listed in docs/admin.md, "Screenshots").
 */

const SCREENSHOTS = path.resolve("test-results/admin");
const KEYS = DEFAULT_SANDBOX_KEYS;
const EMPTY_SHOP = "viewport-empty.myshopify.com";
const WORKING_SHOP = "viewport-working.myshopify.com";
const ATTENTION_SHOP = "viewport-attention.myshopify.com";
const WIDTHS = [
  { width: 1280, height: 900 },
  { width: 390, height: 844 },
] as const;
/** The least room between a control and the screen's edge, in CSS pixels. */
const EDGE_MARGIN = 8;

const harness = await startAdminHarness();
const { default: prisma } = await import("~/db.server");
const { configureShop, insertDelivery } = await import("../support/outbox");

let server: ProductionApp;
let detailId = "";
let runningJobId = "";

interface PageState {
  /** The screenshot's name: test-results/admin/<name>-<width>.png */
  name: string;
  shop: string;
  path: string;
  status?: number;
  /** Brings the page into its state once loaded (fill a form, press Save). */
  act?: (page: Page) => Promise<void>;
  /** What the merchant must be able to read. */
  texts: (string | RegExp)[];
  /** A table of rows (Polaris IndexTable) the page shows, condensed on a phone. */
  table?: boolean;
}

const STATES: PageState[] = [
  { name: "home-empty", shop: EMPTY_SHOP, path: "/app", texts: ["Tracking is not live", "Setup guide", "Enter keys", "Turn on in theme editor", "No order with a recorded source yet."] },
  { name: "home-working", shop: WORKING_SHOP, path: "/app", texts: ["Tracking is live", "Order value forwarded, last 7 days", "$112.50", "Open the delivery log"] },
  { name: "home-attention", shop: ATTENTION_SHOP, path: "/app", texts: ["Orders needing attention", "1 order failed", "Review failed orders", "1 order waiting for another try"] },
  { name: "settings-clean", shop: WORKING_SHOP, path: "/app/settings", texts: ["Refersion keys", "Connection to Refersion", "Keys valid", /Set, ending in/] },
  {
    name: "settings-invalid",
    shop: EMPTY_SHOP,
    path: "/app/settings",
    act: async (page) => {
      await page.getByLabel("Public key").fill("not a key!");
      await page.getByRole("button", { name: "Save", exact: true }).click();
    },
    texts: ["A Refersion key has only letters, digits, _ and -", "Enter your Refersion secret key"],
  },
  {
    name: "settings-saved",
    shop: WORKING_SHOP,
    path: "/app/settings",
    act: async (page) => {
      await page.getByLabel("Forward test orders").click();
      await page.getByRole("button", { name: "Save", exact: true }).click();
    },
    texts: ["Settings saved", "Keys valid"],
  },
  { name: "deliveries", shop: ATTENTION_SHOP, path: "/app/deliveries", texts: ["Delivery log", "#3101"], table: true },
  { name: "delivery-detail", shop: ATTENTION_SHOP, path: "", texts: ["#3101", /JSON/], status: 200 },
  { name: "backfill-idle", shop: EMPTY_SHOP, path: "/app/backfill", texts: ["Resend past orders", "Which past orders can still credit an affiliate", "Resend orders"] },
  { name: "backfill-running", shop: ATTENTION_SHOP, path: "/app/backfill", texts: ["Running", "45 of 120 orders read, 30 orders queued for Refersion."] },
  {
    name: "backfill-done",
    shop: WORKING_SHOP,
    path: "/app/backfill",
    texts: ["Done", /Nothing was sent again: the app already had all 12 orders of these days/, "An order is never sent to Refersion twice."],
  },
  {
    name: "privacy",
    shop: WORKING_SHOP,
    path: "/app/privacy",
    texts: ["Privacy requests", "Customer 8812001", "Stored orders found: 2", "Shopify's request could not be read, so it names no customer"],
    table: true,
  },
  { name: "not-found", shop: WORKING_SHOP, path: "/app/no-such-page", status: 404, texts: ["Page not found", "Go to the app's home"] },
];

/** What breaks the page at this width: sideways scrolling, controls or text at the edge, controls without a name. */
function layoutProblems(page: Page, edgeMargin: number): Promise<string[]> {
  return page.evaluate((margin) => {
    const problems: string[] = [];
    const width = window.innerWidth;
    const scrollWidth = document.scrollingElement!.scrollWidth;
    if (scrollWidth > width) problems.push(`the page is ${scrollWidth}px wide in a ${width}px window`);
    const describe = (element: Element) => `<${element.tagName.toLowerCase()}> "${(element.textContent ?? "").trim().slice(0, 40)}"`;
    const labelled = (element: Element): boolean => {
      if (element.getAttribute("aria-label")?.trim()) return true;
      const labelledBy = element.getAttribute("aria-labelledby");
      if (labelledBy && labelledBy.split(/\s+/).some((id) => document.getElementById(id)?.textContent?.trim())) return true;
      if (element instanceof HTMLInputElement || element instanceof HTMLSelectElement || element instanceof HTMLTextAreaElement) {
        return [...(element.labels ?? [])].some((label) => label.textContent?.trim());
      }
      return Boolean((element as HTMLElement).innerText?.trim() || element.getAttribute("title")?.trim());
    };
    for (const element of document.querySelectorAll("button, a[href], input, select, textarea, summary, [role='button'], [role='tab']")) {
      if (element instanceof HTMLInputElement && element.type === "hidden") continue;
      // Hidden from everyone (Polaris' implicit submit button, for the Enter key).
      if (element.closest('[aria-hidden="true"]')) continue;
      const style = getComputedStyle(element);
      let rect = element.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0 || style.visibility === "hidden") continue;
      // A control drawn as text (plain buttons, links) is where its text is: Polaris widens a
      // plain button's click area past its text with negative margins.
      const drawnAsText = style.backgroundColor === "rgba(0, 0, 0, 0)" && style.boxShadow === "none" && parseFloat(style.borderLeftWidth) === 0;
      if (drawnAsText && element.textContent?.trim()) {
        const range = document.createRange();
        range.selectNodeContents(element);
        const text = range.getBoundingClientRect();
        if (text.width > 0) rect = text;
      }
      if (!labelled(element)) problems.push(`${describe(element)} has no label`);
      // Checkboxes and radios are drawn by Polaris over a hidden native input.
      const drawn = element instanceof HTMLInputElement && (element.type === "checkbox" || element.type === "radio");
      if (!drawn && (rect.left < margin || rect.right > width - margin)) {
        problems.push(`${describe(element)} spans ${Math.round(rect.left)}..${Math.round(rect.right)} px of ${width}`);
      }
    }
    // Text off a card's padding: Polaris' cards reach a phone's edges, what sits between them must
    // not. Text in a box that scrolls sideways on purpose (Polaris' tab bar) is left out.
    const scrollsSideways = (element: Element | null): boolean => {
      for (let node = element; node && node !== document.body; node = node.parentElement) {
        const overflow = getComputedStyle(node).overflowX;
        if (overflow !== "visible" && node.scrollWidth > node.clientWidth) return true;
      }
      return false;
    };
    const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = texts.nextNode(); node; node = texts.nextNode()) {
      const parent = node.parentElement;
      if (!node.textContent?.trim() || !parent || parent.closest('[aria-hidden="true"], script, style, title, desc')) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const rect = range.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0 || getComputedStyle(parent).visibility === "hidden") continue;
      if ((rect.left < margin || rect.right > width - margin) && !scrollsSideways(parent)) {
        problems.push(`text "${node.textContent.trim().slice(0, 40)}" spans ${Math.round(rect.left)}..${Math.round(rect.right)} px of ${width}`);
      }
    }
    return problems;
  }, edgeMargin);
}

beforeAll(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await harness.install(EMPTY_SHOP, { embed: "not_added" });
  await harness.install(WORKING_SHOP, { embed: "enabled" });
  await harness.install(ATTENTION_SHOP, { embed: "enabled" });
  for (const shop of [WORKING_SHOP, ATTENTION_SHOP]) {
    await configureShop(shop, KEYS);
    await prisma.shopSettings.update({ where: { shop }, data: { connectionStatus: "valid", connectionCheckedAt: new Date() } });
  }
  const now = Date.now();
  for (let i = 0; i < 9; i += 1) {
    const placed = new Date(now - (i % 6) * 86_400_000 - 3_600_000);
    await insertDelivery(WORKING_SHOP, { status: "delivered", orderName: `#${2001 + i}`, createdAt: placed, orderPlacedAt: placed, deliveredAt: placed });
  }
  const failed = await insertDelivery(
    ATTENTION_SHOP,
    { status: "failed", orderName: "#3101", reasonCode: "refersion_rejected", reasonDetail: "Refersion rejected the order (422)", lastStatusCode: 422, attempts: 1 },
    [{ startedAt: new Date(), durationMs: 87, statusCode: 422, outcome: "permanent", responseExcerpt: '{"errors":["items: must not be empty"]}' }],
  );
  detailId = failed.id;
  // Its next attempt is far off, so the app's worker leaves it retrying.
  await insertDelivery(ATTENTION_SHOP, {
    status: "retrying",
    orderName: "#3102",
    reasonCode: "refersion_unavailable",
    lastStatusCode: 503,
    attempts: 2,
    nextAttemptAt: new Date(now + 60 * 60_000),
  });
  await insertDelivery(ATTENTION_SHOP, { status: "delivered", orderName: "#3103" });

  // A second run over days the app already had: everything read, nothing queued.
  const dayMs = 86_400_000;
  await prisma.backfillJob.create({
    data: { shop: WORKING_SHOP, since: new Date(now - 10 * dayMs), until: new Date(now - 3 * dayMs), status: "done", processed: 12, enqueued: 0, total: 12, finishedAt: new Date() },
  });
  // Held by another process's lease, so the app's own runner leaves it as the test sets it.
  const running = await prisma.backfillJob.create({
    data: {
      shop: ATTENTION_SHOP,
      since: new Date(now - 30 * dayMs),
      status: "running",
      processed: 45,
      enqueued: 30,
      total: 120,
      leaseOwner: "another-process",
      leaseUntil: new Date(now + 60 * 60_000),
    },
  });
  runningJobId = running.id;

  await prisma.complianceRequest.create({
    data: { shop: WORKING_SHOP, topic: "customers/data_request", customerId: "8812001", orderIds: "2001,2002", outcome: "Stored orders found: 2" },
  });
  await prisma.complianceRequest.create({
    data: {
      shop: WORKING_SHOP,
      topic: "customers/data_request",
      outcome: "Not acted on: Shopify sent a body that is not valid JSON (Unexpected token n in JSON at position 1). Answer this request by hand.",
      receivedAt: new Date(now - 60_000),
    },
  });
  server = await harness.startApp();
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await harness.close();
});

describe.each(WIDTHS)("admin pages at $width px", { timeout: 60_000 }, (viewport) => {
  let admin: AdminBrowser;
  beforeAll(async () => {
    admin = await launchAdminBrowser({ appUrl: server.url, shop: WORKING_SHOP, viewport });
    admin.expectNotFound("/app/no-such-page");
  }, 60_000);
  afterAll(() => admin?.close());

  it.each(STATES)("$name: fits, is labelled and says what the merchant needs", async (state) => {
    const { page } = admin;
    admin.problems.length = 0;
    const pathname = state.name === "delivery-detail" ? `/app/deliveries/${detailId}` : state.path;
    const response = await admin.open(pathname, state.shop);
    expect(response?.status()).toBe(state.status ?? 200);
    await state.act?.(page);
    for (const text of state.texts) await page.getByText(text).filter({ visible: true }).first().waitFor();
    // Fonts and images settle before the layout is measured and the picture taken.
    await page.evaluate(() => document.fonts.ready);
    // Joined, so that a failure lists every problem.
    expect((await layoutProblems(page, EDGE_MARGIN)).join("\n")).toBe("");
    if (state.name === "home-working") {
      // The chart's day labels stay at a readable size, whatever the width.
      const labelSizes = await page.getByTestId("deliveries-chart").evaluate((svg) =>
        [...svg.querySelectorAll("g > text")].map((text) => text.getBoundingClientRect().height),
      );
      expect(labelSizes.length).toBeGreaterThan(0);
      expect(Math.min(...labelSizes)).toBeGreaterThanOrEqual(9);
      // Each status figure's label is on one line.
      // (The badge's visible text: its tone is also written for screen readers, hidden.)
      const labelLines = await page.locator('[data-testid^="count-"] .Polaris-Badge > span:not(.Polaris-Text--visuallyHidden)').evaluateAll((badges) =>
        badges.map((badge) => {
          const range = document.createRange();
          range.selectNodeContents(badge);
          const tops = new Set([...range.getClientRects()].filter((rect) => rect.width > 0).map((rect) => Math.round(rect.top)));
          return `${badge.textContent}: ${tops.size}`;
        }),
      );
      expect(labelLines.length).toBeGreaterThan(0);
      expect(labelLines.filter((line) => !line.endsWith(": 1"))).toEqual([]);
    }
    if (state.name === "settings-clean") {
      // The conversion webhook URL is readable whole, on a phone too: every line of it lies inside its box.
      const url = page.getByTestId("conversion-webhook-url");
      expect(await url.textContent()).toMatch(/^https:\/\/.+\/refersion\/conversions\//);
      const outside = await url.evaluate((code) => {
        const box = code.closest(".Polaris-Box")!.getBoundingClientRect();
        return [...code.getClientRects()].filter((line) => line.left < box.left - 0.5 || line.right > box.right + 0.5).length;
      });
      expect(outside).toBe(0);
      await page.getByRole("button", { name: "Copy webhook URL" }).waitFor();
    }
    if (state.table && viewport.width < 490) {
      // Polaris' small-screen list: no table with columns to scroll through.
      expect(await page.locator("table").count()).toBe(0);
    }
    await page.screenshot({ path: path.join(SCREENSHOTS, `${state.name}-${viewport.width}.png`), fullPage: true });
    expect(admin.problems.join("\n")).toBe("");
  });

  it("called no host but the app's own (App Bridge's script is blocked)", () => {
    expect(admin.blocked.filter((url) => new URL(url).hostname !== "cdn.shopify.com")).toEqual([]);
  });
});

describe("resend past orders while a job runs", { timeout: 60_000 }, () => {
  it("moves the progress bar with the work, without a reload, and stops asking once the job is done", async () => {
    const admin = await launchAdminBrowser({ appUrl: server.url, shop: ATTENTION_SHOP });
    try {
      const { page } = admin;
      await admin.open("/app/backfill");
      const progress = page.getByTestId("backfill-progress");
      expect(await progress.getAttribute("data-percent")).toBe("37");
      // The job's days are written like every other date of the admin, not as 2026-11-05.
      expect(await page.locator("#backfill-job-heading").innerText()).toMatch(/^Orders from [A-Z][a-z]{2} \d{1,2}, \d{4} to now$/);
      await prisma.backfillJob.update({ where: { id: runningJobId }, data: { processed: 90, enqueued: 60 } });
      await page.locator('[data-testid="backfill-progress"][data-percent="75"]').waitFor();
      await page.getByText("90 of 120 orders read, 60 orders queued for Refersion.").waitFor();
      await prisma.backfillJob.update({ where: { id: runningJobId }, data: { processed: 120, enqueued: 80, status: "done", finishedAt: new Date(), leaseOwner: null, leaseUntil: null } });
      await page.locator('[data-testid="backfill-progress"][data-status="done"]').waitFor();
      await page.getByText("40 orders were not sent again").waitFor();
      // Done: the page stops polling.
      let loads = 0;
      page.on("request", (request) => {
        if (request.url().includes("/app/backfill")) loads += 1;
      });
      await page.waitForTimeout(2_500);
      expect(loads).toBe(0);
      expect(admin.problems).toEqual([]);
    } finally {
      await admin.close();
    }
  });
});
