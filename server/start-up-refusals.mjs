/**
 * A start-up refusal (an invalid environment, a SQLite file shared between processes) is the
 * operator's to fix, and its message says how: it is printed alone on stderr and the process
 * exits 1, without a stack trace that would bury the message. Any other error is a fault of the
 * app and keeps its trace. The errors are told apart by name: their classes live in the build,
 * which may be the very import that failed.
 */
const REFUSALS = new Set(["EnvError", "SqliteSharedError"]);

/** Runs a start-up step, turning a refusal into its message and exit code 1. */
export async function unlessRefused(step) {
  try {
    return await step();
  } catch (error) {
    if (!(error instanceof Error) || !REFUSALS.has(error.name)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
