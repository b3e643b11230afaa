/** @type {import('@remix-run/dev').AppConfig} */
export default {
  // Tests live under test/, but keep stray test files out of the route tree anyway.
  ignoredRouteFiles: ["**/.*", "**/*.test.{ts,tsx}"],
  serverModuleFormat: "esm",
  serverBuildPath: "build/server/index.js",
  // App Bridge React ships ESM only; bundle it into the server build. Polaris (with its icons and
  // tokens, and the library's React part that imports it) is bundled too, so that the server loads
  // only the components the app uses, not the whole library: about 20 MB less in the web thread
  // (docs/decisions/0020-background-thread-bundle.md).
  serverDependenciesToBundle: [/^@shopify\/app-bridge-react/, /^@shopify\/polaris/, /^@shopify\/shopify-app-remix\/react/],
  future: {
    v3_fetcherPersist: true,
    v3_relativeSplatPath: true,
    v3_throwAbortReason: true,
    v3_lazyRouteDiscovery: true,
    v3_singleFetch: true,
  },
};
