/* global self, importScripts */
/**
 * A stand-in for Shopify's strict pixel sandbox, run as a dedicated Web Worker beside a Thank you
 * page (test/web-pixel/pixel-sandbox.ts). It provides what the Web Pixels API documents for
 * `register(fn)`: a global `shopify.extend('WebPixel::Render', fn)`, then `fn({analytics,
 * browser, settings, init, customerPrivacy})`. `browser.localStorage` / `sessionStorage` are
 * asynchronous and act on the page's (the top frame's) storage through messages. `fetch` is the
 * worker's own, wrapped to record each call's arguments before it goes out.
 *
 * Messages from the page: load, publish, consent, storage-result. To the page: storage, fetch,
 * fetch-done, subscribed, loaded, error.
 */
"use strict";

const report = (message) => self.postMessage(message);
const errorText = (error) => String((error && (error.stack || error.message)) || error);

self.addEventListener("error", (event) => report({ type: "error", where: "uncaught", message: event.message }));
self.addEventListener("unhandledrejection", (event) => report({ type: "error", where: "unhandledrejection", message: errorText(event.reason) }));

// The top frame's storage, asked over postMessage as the real sandbox does.
let nextStorageCall = 0;
const pendingStorage = new Map();
const storageArea = (area) => {
  const call = (method) => (...args) =>
    new Promise((resolve, reject) => {
      const id = ++nextStorageCall;
      pendingStorage.set(id, { resolve, reject });
      report({ type: "storage", id, area, method, args: args.map((arg) => (arg === undefined ? null : String(arg))) });
    });
  return { getItem: call("getItem"), setItem: call("setItem"), removeItem: call("removeItem"), key: call("key"), length: call("length"), clear: call("clear") };
};

// Every fetch the pixel makes, as it made it, then sent for real.
const nativeFetch = self.fetch.bind(self);
self.fetch = (input, init) => {
  const options = init || {};
  report({
    type: "fetch",
    url: String(input),
    init: {
      method: options.method ?? null,
      keepalive: options.keepalive ?? null,
      credentials: options.credentials ?? null,
      mode: options.mode ?? null,
      headers: options.headers ? Object.fromEntries(new Headers(options.headers)) : null,
      body: typeof options.body === "string" ? options.body : options.body === undefined ? null : "<not a string>",
    },
  });
  const response = nativeFetch(input, init);
  response.then(
    (res) => report({ type: "fetch-done", status: res.status }),
    (error) => report({ type: "fetch-done", error: errorText(error) }),
  );
  return response;
};

const renders = [];
self.shopify = {
  extend(extensionPoint, fn) {
    if (extensionPoint === "WebPixel::Render") renders.push(fn);
    else report({ type: "error", where: "extend", message: `unknown extension point ${extensionPoint}` });
  },
};

const subscribers = new Map();
const subscribe = (bus) => (name, callback) => {
  const key = `${bus}:${name}`;
  if (!subscribers.has(key)) subscribers.set(key, []);
  subscribers.get(key).push(callback);
  report({ type: "subscribed", bus, name });
  return () => true;
};

/** Calls the pixel's subscribers the way the manager does: one bad subscriber does not stop the others. */
const deliver = (key, event) => {
  for (const callback of subscribers.get(key) || []) {
    try {
      callback(event);
    } catch (error) {
      report({ type: "error", where: `subscriber ${key}`, message: errorText(error) });
    }
  }
};

let seq = 0;
let context = null;

self.addEventListener("message", ({ data }) => {
  if (data.type === "storage-result") {
    const pending = pendingStorage.get(data.id);
    pendingStorage.delete(data.id);
    if (pending && data.error) pending.reject(new Error(data.error));
    else if (pending) pending.resolve(data.value);
  } else if (data.type === "load") {
    context = data.init.context;
    try {
      importScripts(data.bundleUrl);
    } catch (error) {
      report({ type: "error", where: "importScripts", message: errorText(error) });
    }
    const browser = {
      cookie: { get: async () => "", set: async () => "" },
      localStorage: storageArea("localStorage"),
      sendBeacon: async () => false,
    };
    if (data.sessionStorage) browser.sessionStorage = storageArea("sessionStorage");
    for (const fn of renders) {
      try {
        fn({
          analytics: { subscribe: subscribe("analytics") },
          browser,
          settings: data.settings,
          init: data.init,
          customerPrivacy: { subscribe: subscribe("customerPrivacy") },
          _pixelInfo: { id: "1", type: "APP", runtimeContext: "STRICT" },
        });
      } catch (error) {
        report({ type: "error", where: "render", message: errorText(error) });
      }
    }
    report({ type: "loaded", renders: renders.length });
  } else if (data.type === "publish") {
    seq += 1;
    deliver(`analytics:${data.name}`, {
      id: `sh-${seq}-${data.name}`,
      clientId: "client-1",
      name: data.name,
      seq,
      timestamp: new Date().toISOString(),
      type: "standard",
      context,
      data: data.data,
    });
  } else if (data.type === "consent") {
    deliver("customerPrivacy:visitorConsentCollected", { customerPrivacy: data.customerPrivacy });
  }
});
