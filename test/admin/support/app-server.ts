import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { TEST_ENV } from "../../support/test-env";
import { freePort } from "../../../scripts/cli/free-port";

export const SERVER_BUILD = path.resolve("build/server/index.js");
const APP_SERVER = path.resolve("server/app-server.mjs");
const FETCH_PRELOAD = path.resolve("test/support/shopify-admin-fetch-preload.mjs");

export interface AppServer {
  url: string;
  /** Everything the server printed, for the failure message. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Runs the production build the way `npm start` does (server/app-server.mjs), on 127.0.0.1, with the test
 * environment, the given database and stand-ins, the delivery worker idle, and fetch for
 * *.myshopify.com rerouted to the Admin API stand-in by the preload module.
 */
export async function startAppServer(options: {
  databaseUrl: string;
  shopifyStandinUrl: string;
  refersionApiUrl: string;
  refersionWebhookUrl: string;
}): Promise<AppServer> {
  if (!fs.existsSync(SERVER_BUILD)) {
    throw new Error(`${SERVER_BUILD} is missing. Build the app first: \`npm run build\` (\`npm test\` builds before running the tests).`);
  }
  const port = await freePort();
  const lines: string[] = [];
  const child: ChildProcess = spawn(process.execPath, [APP_SERVER, SERVER_BUILD], {
    env: {
      PATH: process.env.PATH ?? "",
      ...TEST_ENV,
      NODE_ENV: "production",
      DATABASE_URL: options.databaseUrl,
      PORT: String(port),
      HOST: "127.0.0.1",
      // The worker runs, as SQLite requires (DELIVERY_WORKER=off is refused on a file), but makes
      // its first pass at start and the next an hour later: the rows a test writes keep the
      // states it gives them.
      DELIVERY_WORKER: "on",
      DELIVERY_POLL_MS: String(60 * 60 * 1000),
      REFERSION_API_URL: options.refersionApiUrl,
      REFERSION_WEBHOOK_URL: options.refersionWebhookUrl,
      REFERSION_TIMEOUT_MS: "3000",
      SHOPIFY_ADMIN_STANDIN_URL: options.shopifyStandinUrl,
      NODE_OPTIONS: `--import=${pathToFileURL(FETCH_PRELOAD).href}`,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const record = (stream: string) => (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) lines.push(`[${stream}] ${line}`);
  };
  child.stdout!.on("data", record("out"));
  child.stderr!.on("data", record("err"));
  let exited: number | null = null;
  child.once("exit", (code) => {
    exited = code ?? -1;
  });

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited !== null) throw new Error(`The app server exited (${exited}) before it was ready:\n${lines.join("\n")}`);
    try {
      const response = await fetch(`${url}/`);
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`The app server did not answer within 30 s:\n${lines.join("\n")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  return {
    url,
    output: () => lines.join("\n"),
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      }),
  };
}
