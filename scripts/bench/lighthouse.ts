/**
 * The storefront's Lighthouse performance score the way Shopify's app review measures an app's
 * impact: a product page of the fake storefront (scripts/fake-storefront.ts) without the embed,
 * with it, and with it plus Refersion's script (a stand-in of realistic size), each run several
 * times with Lighthouse's default mobile profile (simulated slow 4G and 4x CPU), median score per
 * page and the difference. Everything stays on the machine: Debian's chromium, the storefront on
 * 127.0.0.1, and Refersion's CDN host mapped to a local HTTPS server (a throwaway self-signed
 * certificate the browser is told to accept).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import lighthouse from "lighthouse";
import { chromium } from "playwright-core";
import { CHROMIUM_LAUNCH_OPTIONS } from "../chromium";
import { REFERSION_SCRIPT_URL, refersionStub, startFakeStorefront, type FakeStorefront } from "../fake-storefront";

export type LighthousePage = "without embed" | "with embed" | "with embed and Refersion's script";

export interface LighthouseResult {
  runsPerPage: number;
  refersionScriptBytes: number;
  pages: { page: LighthousePage; scores: number[]; medianScore: number; medianTbtMs: number; medianLcpMs: number }[];
  /** Median score without the embed minus the lowest median with it (points, 0 to 100). */
  scoreDrop: number;
}

/**
 * The stand-in for Refersion's script: the recording stub, then code of about `bytes` that the
 * browser parses and runs once (a table of small functions, each called), as a real library's
 * set-up would.
 */
export function sizedRefersionScript(bytes: number): string {
  const stub = refersionStub();
  const parts: string[] = [];
  let size = stub.length;
  for (let index = 0; size < bytes; index += 1) {
    const part = `t[${index}]=function(a,b){var c=(a|0)+${index};for(var i=0;i<3;i++){c=(c*31+(b||i))%1000003}return c};`;
    parts.push(part);
    size += part.length;
  }
  return `${stub}\n(function(){var t=[];${parts.join("")}var s=0;for(var k=0;k<t.length;k++){s+=t[k](k,s)}window.__refersionWarm=s})();`;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A local HTTPS server answering Refersion's script URL, with a throwaway self-signed certificate. */
async function startRefersionCdn(script: string | null): Promise<{ port: number; close: () => Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-cdn-"));
  try {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=cdn.refersion.com",
      "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
    ], { stdio: "ignore" });
    const server = https.createServer({ key: fs.readFileSync(path.join(dir, "key.pem")), cert: fs.readFileSync(path.join(dir, "cert.pem")) }, (request, response) => {
      if (script !== null && request.url === new URL(REFERSION_SCRIPT_URL).pathname) {
        response.writeHead(200, { "Content-Type": "application/javascript", "Cache-Control": "no-store" }).end(script);
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
      port: (server.address() as net.AddressInfo).port,
      close: () => new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface LighthouseRun {
  score: number;
  tbtMs: number;
  lcpMs: number;
}

async function runLighthouse(url: string, debuggingPort: number): Promise<LighthouseRun> {
  const result = await lighthouse(url, { port: debuggingPort, onlyCategories: ["performance"], output: "json", logLevel: "error" });
  if (!result) throw new Error(`Lighthouse returned nothing for ${url}`);
  const { lhr } = result;
  if (lhr.runtimeError) throw new Error(`Lighthouse could not measure ${url}: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
  const score = lhr.categories.performance?.score;
  if (typeof score !== "number") throw new Error(`Lighthouse gave no performance score for ${url}`);
  return {
    score: Math.round(score * 100),
    tbtMs: Math.round(lhr.audits["total-blocking-time"]?.numericValue ?? NaN),
    lcpMs: Math.round(lhr.audits["largest-contentful-paint"]?.numericValue ?? NaN),
  };
}

/** Debian's chromium, as CHROMIUM_LAUNCH_OPTIONS names it; fails loudly when it is not there. */
function requireChromium(): string {
  const executable = CHROMIUM_LAUNCH_OPTIONS.executablePath;
  if (!fs.existsSync(executable)) throw new Error(`Lighthouse needs Chromium at ${executable} (Debian's chromium package, or CHROMIUM_PATH)`);
  return executable;
}

export async function measureLighthouse(options: { runs: number; refersionScriptBytes: number }): Promise<LighthouseResult> {
  requireChromium();
  const script = sizedRefersionScript(options.refersionScriptBytes);
  const pages: { page: LighthousePage; embed: boolean; refersion: string | null }[] = [
    { page: "without embed", embed: false, refersion: null },
    // Refersion's script does not load (its URL answers 404): the embed's own cost.
    { page: "with embed", embed: true, refersion: null },
    { page: "with embed and Refersion's script", embed: true, refersion: script },
  ];
  const measured: LighthouseResult["pages"] = [];
  for (const { page, embed, refersion } of pages) {
    const cdn = await startRefersionCdn(refersion);
    const storefront: FakeStorefront = await startFakeStorefront({ embed });
    const debuggingPort = await freePort();
    const browser = await chromium.launch({
      ...CHROMIUM_LAUNCH_OPTIONS,
      args: [
        ...CHROMIUM_LAUNCH_OPTIONS.args,
        `--remote-debugging-port=${debuggingPort}`,
        `--host-resolver-rules=MAP cdn.refersion.com 127.0.0.1:${cdn.port}, EXCLUDE 127.0.0.1`,
        "--ignore-certificate-errors",
      ],
    });
    try {
      const runs: LighthouseRun[] = [];
      // One load first, not counted: the browser's own start-up work would land on the first.
      await runLighthouse(storefront.url("/products/linen-shirt?rfsn=1234.abcd"), debuggingPort);
      for (let index = 0; index < options.runs; index += 1) {
        // A first visit from an affiliate link each time: the embed does all its work.
        storefront.cart.attributes = {};
        runs.push(await runLighthouse(storefront.url("/products/linen-shirt?rfsn=1234.abcd"), debuggingPort));
      }
      measured.push({
        page,
        scores: runs.map((run) => run.score),
        medianScore: median(runs.map((run) => run.score)),
        medianTbtMs: median(runs.map((run) => run.tbtMs)),
        medianLcpMs: median(runs.map((run) => run.lcpMs)),
      });
    } finally {
      await browser.close();
      await storefront.close();
      await cdn.close();
    }
  }
  const without = measured[0].medianScore;
  return {
    runsPerPage: options.runs,
    refersionScriptBytes: script.length,
    pages: measured,
    scoreDrop: without - Math.min(...measured.slice(1).map((entry) => entry.medianScore)),
  };
}
