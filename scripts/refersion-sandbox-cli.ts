/**
 * Runs the local Refersion stand-in until SIGINT/SIGTERM: `npm run refersion:sandbox -- --port 4010`.
 * Point the app at it with REFERSION_WEBHOOK_URL=<url>/tracker/orders/paid and
 * REFERSION_API_URL=<url>/v2. Drive it over HTTP under <url>/__sandbox/ (requests, orders,
 * stats, behavior, reset, keys, conversion-webhooks). Prints one line per request; never a key or a body.
 */
import { parseArgs } from "node:util";
import {
  DEFAULT_SANDBOX_KEYS,
  SANDBOX_MODES,
  startRefersionSandbox,
  type SandboxMode,
} from "./refersion-sandbox";

const USAGE = `Usage: npm run refersion:sandbox -- [options]

  --port N            port on 127.0.0.1 (default 4010; 0 picks a free one)
  --public-key KEY    accepted public key (or SANDBOX_PUBLIC_KEY; default ${DEFAULT_SANDBOX_KEYS.publicKey})
  --secret-key KEY    accepted secret key (or SANDBOX_SECRET_KEY, preferred: arguments show in ps;
                      default: the sandbox's documented test secret, see DEFAULT_SANDBOX_KEYS)
  --mode MODE         starting behavior for every endpoint: ${SANDBOX_MODES.join(", ")} (default ok)
  --no-bodies         keep request metadata and counters only (long benchmark runs)
  --quiet             do not print a line per request
  --help`;

function fail(message: string): never {
  console.error(`refersion-sandbox: ${message}\n\n${USAGE}`);
  process.exit(2);
}

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string" },
        "public-key": { type: "string" },
        "secret-key": { type: "string" },
        mode: { type: "string" },
        "no-bodies": { type: "boolean" },
        quiet: { type: "boolean" },
        help: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }

  const port = Number(values.port ?? process.env.SANDBOX_PORT ?? 4010);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0..65535, got ${values.port}`);

  const publicKey = values["public-key"] ?? process.env.SANDBOX_PUBLIC_KEY ?? DEFAULT_SANDBOX_KEYS.publicKey;
  const secretKey = values["secret-key"] ?? process.env.SANDBOX_SECRET_KEY ?? DEFAULT_SANDBOX_KEYS.secretKey;
  if (!publicKey || !secretKey) fail("the public and secret keys must not be empty");

  const mode = (values.mode ?? "ok") as SandboxMode;
  if (!SANDBOX_MODES.includes(mode)) fail(`--mode must be one of ${SANDBOX_MODES.join(", ")}`);

  const sandbox = await startRefersionSandbox({
    port,
    host: "127.0.0.1",
    keys: [{ publicKey, secretKey }],
    recordBodies: !values["no-bodies"],
    log: values.quiet ? undefined : (line) => console.log(`${new Date().toISOString()} ${line}`),
  });
  if (mode !== "ok") sandbox.setBehavior({ mode });

  console.log(`Refersion sandbox listening on ${sandbox.url}`);
  console.log(`  REFERSION_WEBHOOK_URL=${sandbox.webhookUrl}`);
  console.log(`  REFERSION_API_URL=${sandbox.apiUrl}`);
  console.log(`  public key: ${publicKey} (secret key not shown)`);
  console.log(`  control: ${sandbox.url}/__sandbox/{requests,orders,stats,behavior,reset,keys,conversion-webhooks}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const stats = sandbox.stats();
    await sandbox.close();
    console.log(`Stopped on ${signal}: ${stats.total} requests, ${stats.accepted} accepted.`);
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error: unknown) => {
  console.error(`refersion-sandbox: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
