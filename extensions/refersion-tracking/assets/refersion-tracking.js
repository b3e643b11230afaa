/* Refersion tracking (app embed): after marketing consent, load Refersion's click tracker and
   report the cart token (minus its ?key= secret) for the click. Plain ES2019, no build step;
   never throws into the page. See docs/storefront.md. */
(() => {
  const w = window, d = document, nativeFetch = w.fetch;
  const SENT = "rfsn_shopify_sent"; // (token, click id) pairs already reported
  let cfg = {}, allowed = false, started = false, busy = false, again = false;

  const log = (...a) => { if (cfg.debug) console.log("[refersion-tracking]", ...a); };
  const guard = (fn) => (e) => { try { fn(e); } catch (x) { log(x); } };
  const read = (k) => { try { return localStorage.getItem(k); } catch { return null; } };
  const isCartCall = (input) => /\/cart\/(add|change|update|clear)\b/.test((input && input.url) || input);
  const cartRequest = (path, init) => nativeFetch.call(w, ((w.Shopify && w.Shopify.routes && w.Shopify.routes.root) || "/").replace(/\/?$/, "/") + path,
    Object.assign({ credentials: "same-origin", headers: { "Content-Type": "application/json" } }, init))
    .then((res) => { if (!res.ok) throw new Error(path + " " + res.status); return res.json(); });

  // One cart check at a time; a request made meanwhile runs once afterwards.
  const check = () => {
    if (!allowed) return;
    if (busy) return void (again = true);
    busy = true;
    cartRequest("cart.js").then(report).catch(log).then(() => {
      busy = false;
      if (again) { again = false; check(); }
    });
  };

  const report = (cart) => {
    const token = String(cart.token || "").split("?")[0];
    const id = read("rfsn_v4_id"), aid = read("rfsn_v4_aid"), r = w.r;
    if (!token || !(cart.item_count > 0) || !id) return log("nothing to report");
    let sent;
    try { sent = JSON.parse(read(SENT)) || []; } catch { sent = []; }
    if (!sent.includes(token + " " + id) && r && typeof r.sendCheckoutEvent === "function") {
      Promise.resolve(r.sendCheckoutEvent(token, id, location.href, aid, read("rfsn_v4_cs"))).catch(log);
      try { localStorage.setItem(SENT, JSON.stringify(sent.concat(token + " " + id).slice(-20))); } catch { /* storage off */ }
      log("reported", token);
    }
    const attrs = cart.attributes || {}, want = { _rfsn_cart: token };
    if (aid) want._rfsn_aid = aid;
    if (Object.keys(want).some((k) => attrs[k] !== want[k])) {
      // nativeFetch: this update must not trigger the cart-call observer
      return cartRequest("cart/update.js", { method: "POST", body: JSON.stringify({ attributes: want }) });
    }
  };

  // Re-check after the theme changes the cart and when the buyer heads for checkout.
  const watchCart = () => {
    if (nativeFetch) w.fetch = function (input) {
      const result = nativeFetch.apply(this, arguments);
      try { if (isCartCall(input)) result.then(check, check); } catch { /* never break fetch */ }
      return result;
    };
    const proto = w.XMLHttpRequest && XMLHttpRequest.prototype, open = proto && proto.open;
    if (open) proto.open = function (method, url) {
      try { if (isCartCall(url)) this.addEventListener("loadend", check); } catch { /* never break XHR */ }
      return open.apply(this, arguments);
    };
    d.addEventListener("submit", guard((e) => { if (/\/(cart|checkout)\b/.test(e.target.getAttribute("action"))) check(); }), true);
    d.addEventListener("click", guard((e) => {
      const link = e.target.closest && e.target.closest("a[href]");
      if (link && /\/checkout\b/.test(link.href)) check();
    }), true);
  };

  const loadRefersion = () => {
    w.TrackingSystemObject = "r";
    const s = d.createElement("script");
    s.async = true;
    s.src = "https://cdn.refersion.com/refersion.js";
    s.onload = () => new Promise((resolve) => {
      const r = w.r;
      r.pubKey = cfg.publicKey;
      r.settings.fp_off = true;
      if (cfg.debug) r.settings.dbg_mode = true;
      resolve(r.initializeXDLS());
    }).then(() => w.r.launchDefault()).then(() => d.dispatchEvent(new Event("refersion-loaded"))).catch(log).then(check);
    s.onerror = check; // click data from an earlier visit still reaches the cart attributes
    d.head.appendChild(s);
  };

  const setConsent = (ok) => {
    allowed = !!ok;
    log("marketing consent", allowed);
    if (allowed && started) check();
    else if (allowed) { started = true; watchCart(); loadRefersion(); }
  };

  // marketingAllowed() is false where consent is required and not given, true otherwise.
  const decide = guard(() => {
    const api = w.Shopify && w.Shopify.customerPrivacy, allows = api && (api.marketingAllowed || api.userCanBeTracked);
    setConsent(typeof allows === "function" ? allows.call(api) : cfg.withoutConsentApi === "track");
  });

  try {
    const el = d.getElementById("refersion-tracking-config");
    if (!el || w.__refersionTracking) return;
    w.__refersionTracking = true;
    cfg = JSON.parse(el.textContent);
    if (!cfg.publicKey) return;
    d.addEventListener("visitorConsentCollected", guard((e) => setConsent(e.detail.marketingAllowed)));
    const shopify = w.Shopify;
    if (shopify && !shopify.customerPrivacy && shopify.loadFeatures) {
      shopify.loadFeatures([{ name: "consent-tracking-api", version: "0.1" }], (error) => { if (error) log(error); decide(); });
    } else decide();
  } catch (x) {
    log(x);
  }
})();
