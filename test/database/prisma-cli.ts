import { spawn } from "node:child_process";
import path from "node:path";

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

const PRISMA = path.resolve("node_modules/.bin/prisma");

/** Runs the Prisma CLI of this repository (prisma.config.ts included) against DATABASE_URL. */
export function prismaCli(args: string[], databaseUrl: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(PRISMA, args, {
      env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** The whole output of a CLI run, for assertion messages. */
export function describeRun(args: string[], result: CliResult): string {
  return `prisma ${args.join(" ")} exited ${result.status}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}
