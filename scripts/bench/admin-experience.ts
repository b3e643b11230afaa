/**
 * How the embedded admin's pages feel in Chromium: Largest Contentful Paint, Cumulative Layout
 * Shift and, on the settings form, how long the page takes to answer the merchant's input
 * (`npm run bench`, phase 5, `BENCH_ONLY=admin`; docs/performance.md, "Admin pages: paint, layout
 * shift, input").
 *
 * Each page is opened in a fresh context (nothing cached) from the production build, the way
 * Shopify's admin opens it, at a desktop width and at a phone's (390 px, with the CPU slowed 4x
 * through the DevTools protocol, a mid-range phone). PerformanceObservers registered before any
 * page script record:
 * - `largest-contentful-paint`: the last candidate before the first input (the browser stops
 *   reporting then);
 * - `layout-shift`: the sum of the shifts not caused by input (CLS of the visit);
 * - `event` with an `interactionId` (durationThreshold 16 ms, the least Chromium reports), and
 *   `first-input`: for each interaction on the settings form (click a checkbox, type in the
 *   public key, show the secret) its input delay (start to the handlers running), processing
 *   time and duration to the next paint. An interaction that took less than 16 ms in all is not
 *   reported by Chromium and counts as "< 16".
 */
import { chromium, type Browser, type Page } from "playwright-core";
import { CHROMIUM_LAUNCH_OPTIONS } from "../chromium";
import type { AdminPage } from "./admin-pages";

const USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

export const ADMIN_VIEWPORTS = [
  { name: "desktop", width: 1280, height: 900, cpuThrottling: 1 },
  { name: "phone", width: 390, height: 844, cpuThrottling: 4 },
] as const;

export interface InteractionTiming {
  name: string;
  /** Event start to its handlers running. */
  inputDelayMs: number;
  /** Event start to the next paint. */
  durationMs: number;
}

export interface AdminExperience {
  page: string;
  viewport: (typeof ADMIN_VIEWPORTS)[number]["name"];
  lcpMs: number | null;
  /** What the largest contentful paint was (tag and the start of its text). */
  lcpElement: string | null;
  cls: number;
  /** Settings only: the interactions Chromium reported (those of 16 ms or more). */
  interactions: InteractionTiming[] | null;
  /** Settings only: the slowest interaction's duration (what INP reports on a short visit); 0 when none reached 16 ms. */
  slowestInteractionMs: number | null;
  /** Settings only: the first input's delay (always reported). */
  firstInputDelayMs: number | null;
}

interface RecordedVitals {
  lcp: number | null;
  lcpElement: string | null;
  cls: number;
  events: InteractionTiming[];
  firstInputDelay: number | null;
}

/**
 * Runs in the page before its scripts: the observers write into window.adminVitals. A string, so
 * no compiler helper is carried into the page.
 */
const OBSERVE_VITALS = `
(() => {
  const vitals = { lcp: null, lcpElement: null, cls: 0, events: [], firstInputDelay: null };
  window.adminVitals = vitals;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      vitals.lcp = entry.renderTime || entry.loadTime || entry.startTime;
      vitals.lcpElement = entry.element ? "<" + entry.element.tagName.toLowerCase() + "> " + (entry.element.textContent || "").trim().slice(0, 40) : null;
    }
  }).observe({ type: "largest-contentful-paint", buffered: true });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) vitals.cls += entry.value;
  }).observe({ type: "layout-shift", buffered: true });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.interactionId) vitals.events.push({ name: entry.name, inputDelayMs: entry.processingStart - entry.startTime, durationMs: entry.duration });
    }
  }).observe({ type: "event", buffered: true, durationThreshold: 16 });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) vitals.firstInputDelay = entry.processingStart - entry.startTime;
  }).observe({ type: "first-input", buffered: true });
})();
`;

/** What a merchant does on the settings form: tick an option, type in the public key, show the secret. */
async function useSettingsForm(page: Page) {
  await page.getByLabel("Forward test orders").click();
  await page.getByLabel("Public key").click();
  await page.keyboard.type("pub_typed", { delay: 30 });
  const show = page.getByRole("button", { name: "Show the secret you typed" });
  if (await show.count()) await show.click();
  else await page.getByRole("button", { name: "Replace secret key" }).click();
  // The last interaction's paint, then the observers' callbacks.
  await page.waitForTimeout(500);
}

const round = (value: number, digits = 0) => Math.round(value * 10 ** digits) / 10 ** digits;

async function measureOne(browser: Browser, page: AdminPage, url: string, viewport: (typeof ADMIN_VIEWPORTS)[number]): Promise<AdminExperience> {
  const context = await browser.newContext({ userAgent: USER_AGENT, viewport: { width: viewport.width, height: viewport.height } });
  try {
    await context.route("**/*", (route) =>
      new URL(route.request().url()).hostname === "127.0.0.1" ? route.continue() : route.abort("blockedbyclient"),
    );
    await context.addInitScript(OBSERVE_VITALS);
    const tab = await context.newPage();
    const errors: string[] = [];
    tab.on("pageerror", (error) => errors.push(error.message));
    if (viewport.cpuThrottling > 1) {
      const cdp = await context.newCDPSession(tab);
      await cdp.send("Emulation.setCPUThrottlingRate", { rate: viewport.cpuThrottling });
    }
    const response = await tab.goto(url, { waitUntil: "networkidle" });
    if (response?.status() !== 200) throw new Error(`${page.name} answered ${response?.status() ?? "nothing"}`);
    const settings = page.path.startsWith("/app/settings");
    if (settings) await useSettingsForm(tab);
    else await tab.waitForTimeout(300);
    if (errors.length) throw new Error(`${page.name} failed in the page: ${errors.join("; ")}`);
    const vitals = await tab.evaluate(() => (window as unknown as { adminVitals: RecordedVitals }).adminVitals);
    const interactions = vitals.events.map((event) => ({ ...event, inputDelayMs: round(event.inputDelayMs, 1), durationMs: round(event.durationMs) }));
    return {
      page: page.name,
      viewport: viewport.name,
      lcpMs: vitals.lcp === null ? null : round(vitals.lcp),
      lcpElement: vitals.lcpElement,
      cls: round(vitals.cls, 4),
      interactions: settings ? interactions : null,
      slowestInteractionMs: settings ? Math.max(0, ...interactions.map((event) => event.durationMs)) : null,
      firstInputDelayMs: settings && vitals.firstInputDelay !== null ? round(vitals.firstInputDelay, 1) : null,
    };
  } finally {
    await context.close();
  }
}

/** Every page at each of ADMIN_VIEWPORTS, one fresh visit each. */
export async function measureAdminExperience(options: {
  pages: AdminPage[];
  urlFor: (pathname: string) => string | Promise<string>;
}): Promise<AdminExperience[]> {
  const browser = await chromium.launch(CHROMIUM_LAUNCH_OPTIONS);
  try {
    const results: AdminExperience[] = [];
    for (const viewport of ADMIN_VIEWPORTS) {
      for (const page of options.pages) results.push(await measureOne(browser, page, await options.urlFor(page.path), viewport));
    }
    return results;
  } finally {
    await browser.close();
  }
}

/** Web Vitals' "good" thresholds (web.dev): LCP 2.5 s, CLS 0.1, INP 200 ms. */
export const ADMIN_EXPERIENCE_TARGETS = { lcpMs: 2_500, cls: 0.1, interactionMs: 200 } as const;

/** The bench's targets for the measured pages, one line per viewport and figure. */
export function adminExperienceTargets(results: AdminExperience[]): { target: string; value: string; met: boolean }[] {
  return ADMIN_VIEWPORTS.flatMap((viewport) => {
    const rows = results.filter((result) => result.viewport === viewport.name);
    if (rows.length === 0) return [];
    const label = `${viewport.name} ${viewport.width} px${viewport.cpuThrottling > 1 ? `, CPU ${viewport.cpuThrottling}x slower` : ""}`;
    const worstLcp = Math.max(...rows.map((row) => row.lcpMs ?? Infinity));
    const worstCls = Math.max(...rows.map((row) => row.cls));
    const settings = rows.find((row) => row.slowestInteractionMs !== null);
    return [
      { target: `admin pages, ${label}: LCP < ${ADMIN_EXPERIENCE_TARGETS.lcpMs} ms (worst page)`, value: `${worstLcp} ms`, met: worstLcp < ADMIN_EXPERIENCE_TARGETS.lcpMs },
      { target: `admin pages, ${label}: CLS < ${ADMIN_EXPERIENCE_TARGETS.cls} (worst page)`, value: String(worstCls), met: worstCls < ADMIN_EXPERIENCE_TARGETS.cls },
      ...(settings
        ? [
            {
              target: `settings form, ${label}: slowest interaction < ${ADMIN_EXPERIENCE_TARGETS.interactionMs} ms`,
              value: settings.slowestInteractionMs === 0 ? "< 16 ms" : `${settings.slowestInteractionMs} ms`,
              met: (settings.slowestInteractionMs ?? 0) < ADMIN_EXPERIENCE_TARGETS.interactionMs,
            },
          ]
        : []),
    ];
  });
}
