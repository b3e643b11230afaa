// Single Fetch's types for useLoaderData/useActionData. This must be a module (hence the export)
// so that the block below augments Remix's types; in a global script it would replace them with `any`.
export {};

declare module "@remix-run/server-runtime" {
  interface Future {
    v3_singleFetch: true;
  }
}
