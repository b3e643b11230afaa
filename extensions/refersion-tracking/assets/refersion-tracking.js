/* Refersion tracking app embed (docs/storefront.md). Shopify loads it deferred while the embed is on;
   it exits at once unless the block rendered its config. Plain ES2019; never throws into the page. */
(() => {
  const w = window, d = document, el = d.getElementById("refersion-tracking-config");
  if (!el || w.__refersionTracking) return; // not configured: do nothing
  w.__refersionTracking = true;
  const nativeFetch = w.fetch, SENT = "rfsn_shopify_sent";
  let cfg = {}, allowed, started, busy, again;

  const log = (...a) => { if (cfg.debug) console.log("[refersion-tracking]", ...a); };
  const guard = (fn) => (e) => { try { fn(e); } catch (x) { log(x); } };
  const read = (k) => { try { return localStorage.getItem(k); } catch { /* storage off */ } };
  const isCartCall = (input) => /\/cart\/(add|change|update|clear)\b/.test((input && input.url) || input);
  const cartRequest = (path, init) => nativeFetch(((w.Shopify && w.Shopify.routes && w.Shopify.routes.root) || "/").replace(/\/?$/, "/") + path, init)
    .then((res) => { if (!res.ok) throw Error(path + " " + res.status); return res.json(); });

  // One check at a time; a request made meanwhile runs once afterwards.
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
    const token = (cart.token || "").split("?")[0], id = read("rfsn_v4_id"), aid = read("rfsn_v4_aid"), r = w.r;
    if (!token || !(cart.item_count > 0) || !id) return log("nothing to report");
    const pair = token + " " + id, attrs = cart.attributes || {}, want = { _rfsn_cart: token };
    let sent;
    try { sent = JSON.parse(read(SENT)) || []; } catch { sent = []; }
    if (!sent.includes(pair) && r && typeof r.sendCheckoutEvent == "function") {
      Promise.resolve(r.sendCheckoutEvent(token, id, location.href, aid, read("rfsn_v4_cs"))).catch(log);
      try { localStorage.setItem(SENT, JSON.stringify(sent.concat(pair).slice(-20))); } catch { /* storage off */ }
      log("reported", token);
    }
    if (aid) want._rfsn_aid = aid;
    // nativeFetch: our own write is no theme cart call.
    if (Object.keys(want).some((k) => attrs[k] !== want[k])) return cartRequest("cart/update.js", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ attributes: want }),
    });
  };

  const watchCart = () => {
    if (nativeFetch) w.fetch = function (input) {
      const result = nativeFetch.apply(this, arguments);
      try { if (isCartCall(input)) result.then(check, check); } catch { /* never break the theme */ }
      return result;
    };
    const proto = XMLHttpRequest.prototype, open = proto.open;
    proto.open = function (method, url) {
      try { if (isCartCall(url)) this.addEventListener("loadend", check); } catch { /* never break the theme */ }
      return open.apply(this, arguments);
    };
    d.addEventListener("submit", guard((e) => { if (/\/(cart|checkout)\b/.test(e.target.getAttribute("action"))) check(); }), true);
    d.addEventListener("click", guard((e) => {
      const link = e.target.closest && e.target.closest("a[href]");
      if (link && /\/checkout\b/.test(link.href)) check();
    }), true);
  };

  const loadRefersion = () => {
    const s = d.createElement("script");
    w.TrackingSystemObject = "r";
    s.async = true;
    s.src = "https://cdn.refersion.com/refersion.js";
    s.onload = () => Promise.resolve(w.r).then((r) => {
      r.pubKey = cfg.publicKey;
      r.settings.fp_off = true;
      if (cfg.debug) r.settings.dbg_mode = true;
      return r.initializeXDLS();
    }).then(() => w.r.launchDefault()).then(() => d.dispatchEvent(new Event("refersion-loaded"))).catch(log).then(check);
    s.onerror = check;
    d.head.appendChild(s);
  };

  const setConsent = (ok) => {
    log("marketing consent", (allowed = !!ok));
    if (allowed && started) check();
    else if (allowed) { started = true; watchCart(); loadRefersion(); }
  };

  const decide = guard(() => {
    const api = w.Shopify && w.Shopify.customerPrivacy, allows = api && (api.marketingAllowed || api.userCanBeTracked);
    setConsent(typeof allows == "function" ? allows.call(api) : cfg.withoutConsentApi == "track");
  });

  guard(() => {
    cfg = JSON.parse(el.textContent) || {};
    if (!cfg.publicKey) return;
    d.addEventListener("visitorConsentCollected", guard((e) => setConsent(e.detail.marketingAllowed)));
    const shopify = w.Shopify;
    if (shopify && !shopify.customerPrivacy && shopify.loadFeatures) {
      shopify.loadFeatures([{ name: "consent-tracking-api", version: "0.1" }], (error) => { if (error) log(error); decide(); });
    } else decide();
  })();
})();
