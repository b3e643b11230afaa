import { env } from "../env.server";

/**
 * What `npm start`'s background thread (server/background-thread.mjs) runs: delivery, acting on
 * received webhooks, backfill and maintenance, and its half of the SQLite write turns. `npm run
 * build` bundles this module on its own into build/background/index.js (scripts/build-background.ts),
 * so that the thread loads only these modules and their packages (Prisma, Shopify's API library,
 * zod), not React, Polaris and the Remix routes the web thread serves: about 40 MB less per
 * process (docs/decisions/0020-background-thread-bundle.md). The server build exports the same
 * names (app/entry.server.tsx): under `npm run dev` the thread loads that build instead, which
 * the dev server rebuilds on every change.
 */

// The whole environment is checked when the thread starts, as the server build checks it.
env();

export { startBackgroundWork, stopBackgroundWork } from "./background-work.server";
// The thread's SQLite connection takes turns to write with the web thread's (app/database/sqlite-adapter.ts).
export { shareWriteTurns } from "../database/sqlite-adapter";
// The acknowledgements go first when both threads want the CPU.
export { lowerThisThreadsCpuPriority } from "./thread-priority.server";
