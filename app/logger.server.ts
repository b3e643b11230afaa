import { loggingEnv } from "./env.server";

type Level = "debug" | "info" | "warn" | "error";
const rank: Record<Level | "silent", number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/** Fields a log line may carry. Never payloads, keys or customer data: ids and numbers only. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/**
 * Secrets registered here are masked in every log line, whatever field they end up in. A secret
 * is registered each time it is read for use (app/settings/shop-settings.server.ts), so only the
 * most recently used are needed: past MAX_KNOWN_SECRETS the least recently registered is
 * forgotten, and the set stays bounded however many shops (or keys saved again) there are.
 */
export const MAX_KNOWN_SECRETS = 1_000;
const knownSecrets = new Set<string>();
export function registerSecret(secret: string | null | undefined) {
  if (!secret || secret.length < 6) return;
  // Re-inserted, so that a Set's insertion order is the order of last use.
  knownSecrets.delete(secret);
  knownSecrets.add(secret);
  if (knownSecrets.size > MAX_KNOWN_SECRETS) knownSecrets.delete(knownSecrets.values().next().value!);
}

/** How many secrets are masked now (bounded by MAX_KNOWN_SECRETS). */
export function knownSecretCount(): number {
  return knownSecrets.size;
}
export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of knownSecrets) out = out.split(secret).join("[redacted]");
  return out;
}

export type LogSink = (line: string) => void;
let sink: LogSink = (line) => process.stdout.write(line + "\n");
/** Where log lines go (stdout by default); tests capture them to scan for secrets. */
export function setLogSink(next: LogSink) {
  sink = next;
}

function createLogger(base: LogFields): Logger {
  const write = (level: Level, message: string, fields?: LogFields) => {
    if (rank[level] < rank[loggingEnv().LOG_LEVEL]) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...base, ...fields });
    sink(redactSecrets(line));
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => createLogger({ ...base, ...fields }),
  };
}

export const logger: Logger = createLogger({});
