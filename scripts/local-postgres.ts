/**
 * A throwaway PostgreSQL server for tests and `npm run db:migration`: its own cluster under .cache/postgres/, on a free
 * port on 127.0.0.1, trust authentication, gone after stop(). Uses the server binaries Debian's
 * `postgresql` package installs (.ci/postgres-setup.sh installs them); when they are missing it
 * throws, it never skips. PostgreSQL refuses to run as root, so as root (CI) the cluster is
 * owned by and run as the `postgres` system user (or `nobody` when there is none).
 */
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { freePort } from "./cli/free-port";

export interface LocalPostgres {
  /** postgresql://postgres@127.0.0.1:PORT/postgres */
  url: string;
  /** Creates an empty database on this server and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server and deletes its files. Safe to call twice. */
  stop(): Promise<void>;
}

const CACHE_DIR = path.resolve(".cache/postgres");

/** Where the server binaries are: $PG_BIN, else the newest /usr/lib/postgresql/<version>/bin. */
export function findPostgresBinaries(pgBin = process.env.PG_BIN, debianRoot = "/usr/lib/postgresql"): string {
  const candidates: string[] = [];
  if (pgBin) candidates.push(pgBin);
  if (fs.existsSync(debianRoot)) {
    const versions = fs
      .readdirSync(debianRoot)
      .filter((name) => /^\d+(\.\d+)?$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) candidates.push(path.join(debianRoot, version, "bin"));
  }
  const found = candidates.find((dir) =>
    ["initdb", "pg_ctl", "postgres"].every((tool) => fs.existsSync(path.join(dir, tool))),
  );
  if (!found) {
    throw new Error(
      "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found " +
        `(looked in ${candidates.length ? candidates.join(", ") : `$PG_BIN and ${debianRoot}/*/bin`}). ` +
        "The PostgreSQL tests need them: run .ci/postgres-setup.sh (apt-get install -y postgresql) " +
        "or set PG_BIN to the directory holding initdb.",
    );
  }
  return found;
}

/** The OS user the server runs as: the current one, or an unprivileged one when that is root. */
function serverUser(): { uid: number; gid: number; name: string } | null {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return null;
  for (const name of ["postgres", "nobody"]) {
    const result = spawnSync("id", ["-u", name], { encoding: "utf8" });
    if (result.status !== 0) continue;
    const gid = spawnSync("id", ["-g", name], { encoding: "utf8" });
    return { uid: Number(result.stdout.trim()), gid: Number(gid.stdout.trim()), name };
  }
  throw new Error("Running as root, but there is no `postgres` or `nobody` user to run PostgreSQL as");
}

function run(binary: string, args: string[], options: SpawnSyncOptions, what: string, logFile?: string) {
  const result = spawnSync(binary, args, { encoding: "utf8", timeout: 120_000, ...options });
  if (result.error || result.status !== 0) {
    const log = logFile && fs.existsSync(logFile) ? `\n--- server log ---\n${fs.readFileSync(logFile, "utf8").slice(-4000)}` : "";
    throw new Error(
      `${what} failed (${path.basename(binary)} exited ${result.status ?? result.error?.message}):\n` +
        `${String(result.stderr ?? "").trim()}\n${String(result.stdout ?? "").trim()}${log}`,
    );
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Stops and removes clusters left behind by test processes that were killed. */
function removeAbandonedClusters(bin: string, asUser: SpawnSyncOptions) {
  for (const entry of fs.readdirSync(CACHE_DIR)) {
    const owner = /^cluster-(\d+)-/.exec(entry);
    if (!owner || isAlive(Number(owner[1]))) continue;
    const dir = path.join(CACHE_DIR, entry);
    spawnSync(path.join(bin, "pg_ctl"), ["-D", path.join(dir, "data"), "-m", "immediate", "-w", "stop"], {
      ...asUser,
      cwd: "/",
      stdio: "ignore",
    });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts a fresh PostgreSQL cluster. Throws with the reason when it cannot. */
export async function startPostgres(): Promise<LocalPostgres> {
  const bin = findPostgresBinaries();
  const user = serverUser();
  const asUser: SpawnSyncOptions = user ? { uid: user.uid, gid: user.gid } : {};

  fs.mkdirSync(CACHE_DIR, { recursive: true, mode: 0o755 });
  fs.chmodSync(CACHE_DIR, 0o755);
  removeAbandonedClusters(bin, asUser);
  const clusterDir = path.join(CACHE_DIR, `cluster-${process.pid}-${crypto.randomUUID().slice(0, 8)}`);
  const dataDir = path.join(clusterDir, "data");
  const logFile = path.join(clusterDir, "server.log");
  fs.mkdirSync(clusterDir, { mode: 0o700 });
  if (user) fs.chownSync(clusterDir, user.uid, user.gid);
  // PG* variables of the caller (PGDATA, PGPORT, ...) must not steer this throwaway cluster.
  const env: NodeJS.ProcessEnv = { ...process.env, LANG: "C", LC_ALL: "C" };
  for (const name of Object.keys(env)) if (name.startsWith("PG")) delete env[name];
  const spawnOptions: SpawnSyncOptions = { ...asUser, cwd: clusterDir, env };

  run(
    path.join(bin, "initdb"),
    ["-D", dataDir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"],
    spawnOptions,
    "initdb",
  );

  let port = 0;
  let started = false;
  for (let attempt = 0; attempt < 5 && !started; attempt += 1) {
    port = await freePort();
    // Throwaway data: durability settings off. No Unix socket (its default directory may not
    // be writable); TCP on loopback only.
    fs.writeFileSync(
      path.join(dataDir, "postgresql.auto.conf"),
      [
        "listen_addresses = '127.0.0.1'",
        `port = ${port}`,
        "unix_socket_directories = ''",
        "max_connections = 200",
        "fsync = off",
        "synchronous_commit = off",
        "full_page_writes = off",
        "shared_buffers = 32MB",
        "",
      ].join("\n"),
    );
    try {
      run(path.join(bin, "pg_ctl"), ["-D", dataDir, "-l", logFile, "-w", "-t", "60", "start"], spawnOptions, "pg_ctl start", logFile);
      started = true;
    } catch (error) {
      // Another process may have taken the port between freePort() and start: try another.
      if (attempt === 4) throw error;
    }
  }

  let stopped = false;
  const stopNow = () => {
    if (stopped) return;
    stopped = true;
    spawnSync(path.join(bin, "pg_ctl"), ["-D", dataDir, "-m", "immediate", "-w", "stop"], { ...spawnOptions, stdio: "ignore" });
    fs.rmSync(clusterDir, { recursive: true, force: true });
  };
  // A test process that dies without calling stop() must not leave a server behind.
  process.once("exit", stopNow);

  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    async createDatabase(name: string) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`Unusable database name: ${name}`);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return `postgresql://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      process.removeListener("exit", stopNow);
      stopNow();
    },
  };
}

/** For debugging: `npx tsx scripts/local-postgres.ts` prints a server's URL until Ctrl-C. */
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve("scripts/local-postgres.ts")) {
  const server = await startPostgres();
  console.log(server.url);
  const stop = () => void server.stop().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  setInterval(() => {}, 1 << 30);
}
