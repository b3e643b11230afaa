/** @type {import('@remix-run/dev').AppConfig} */
export default {
  // Tests live under test/, but keep stray test files out of the route tree anyway.
  ignoredRouteFiles: ["**/.*", "**/*.test.{ts,tsx}"],
  serverModuleFormat: "esm",
  serverBuildPath: "build/server/index.js",
  // App Bridge React ships ESM only; bundle it into the server build.
  serverDependenciesToBundle: [/^@shopify\/app-bridge-react/],
  future: {
    v3_fetcherPersist: true,
    v3_relativeSplatPath: true,
    v3_throwAbortReason: true,
    v3_lazyRouteDiscovery: true,
    v3_singleFetch: true,
  },
};
