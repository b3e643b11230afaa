/* Refersion tracking app embed (docs/storefront.md). Plain ES2019; never throws into the page. */
(() => {
  const w = window, d = document, el = d.getElementById("refersion-tracking-config");
  if (!el || w.__refersionTracking) return; // not configured
  w.__refersionTracking = true;
  const nativeFetch = w.fetch, SENT = "rfsn_shopify_sent", sending = {};
  let cfg = {}, allowed, started, ready, busy, again;

  const log = (...a) => { if (cfg.debug) console.log("[refersion-tracking]", ...a); };
  const safe = (fn) => { try { return fn(); } catch (x) { log(x); } };
  const guard = (fn) => (e) => safe(() => fn(e));
  const read = (k) => safe(() => localStorage.getItem(k));
  const sentPairs = () => safe(() => JSON.parse(read(SENT))) || [];
  const isCartCall = (input) => /\/cart\/(add|change|update|clear)\b/.test((input && input.url) || input);
  const cartRequest = (path, init) => nativeFetch(((w.Shopify && w.Shopify.routes && w.Shopify.routes.root) || "/").replace(/\/?$/, "/") + path, init)
    .then((res) => { if (!res.ok) throw Error(path + " " + res.status); return res.json(); });
  // The Customer Privacy API once loaded, else the merchant's setting.
  const consent = () => {
    const api = w.Shopify && w.Shopify.customerPrivacy, allows = api && (api.marketingAllowed || api.userCanBeTracked);
    return typeof allows == "function" ? !!allows.call(api) : cfg.withoutConsentApi == "track";
  };

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
    const token = (cart.token || "").split("?")[0], id = read("rfsn_v4_id"), aid = read("rfsn_v4_aid"), cs = read("rfsn_v4_cs"),
      pair = token + " " + id, attrs = cart.attributes || {}, want = { _rfsn_cart: token, _rfsn_aid: aid };
    if (!(consent() && token && cart.item_count > 0 && id && aid && cs)) return;
    // Marked sent only once Refersion took it.
    if (ready && !sending[pair] && !sentPairs().includes(pair)) {
      sending[pair] = 1;
      Promise.resolve().then(() => w.r.sendCheckoutEvent(token, id, location.href, aid, cs)).then(() => {
        safe(() => localStorage.setItem(SENT, JSON.stringify(sentPairs().concat(pair).slice(-20))));
        log("reported", token);
      }).catch((x) => { sending[pair] = 0; log(x); });
    }
    // Through nativeFetch: not a theme cart call.
    if (Object.keys(want).some((k) => attrs[k] !== want[k])) return cartRequest("cart/update.js", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ attributes: want }),
    });
  };

  const watchCart = () => {
    if (nativeFetch) w.fetch = function (input) {
      const result = nativeFetch.apply(this, arguments);
      safe(() => isCartCall(input) && result.then(check, check));
      return result;
    };
    const proto = XMLHttpRequest.prototype, open = proto.open;
    proto.open = function (method, url) {
      safe(() => isCartCall(url) && this.addEventListener("loadend", check));
      return open.apply(this, arguments);
    };
    d.addEventListener("submit", guard((e) => /\/(cart|checkout)\b/.test(e.target.getAttribute("action")) && check()), true);
    d.addEventListener("click", guard((e) => /\/checkout\b/.test((e.target.closest("a[href]") || {}).href) && check()), true);
  };

  const loadRefersion = () => {
    const s = d.createElement("script");
    w.TrackingSystemObject = "r";
    s.src = "https://cdn.refersion.com/refersion.js";
    s.onload = () => Promise.resolve(w.r).then((r) => {
      r.pubKey = cfg.publicKey;
      r.settings.fp_off = true;
      if (cfg.debug) r.settings.dbg_mode = true;
      return r.initializeXDLS();
    }).then(() => w.r.launchDefault()).then(() => { ready = true; d.dispatchEvent(new Event("refersion-loaded")); }).catch(log).then(check);
    s.onerror = check;
    d.head.appendChild(s);
  };

  const decide = guard(() => {
    log("marketing consent", (allowed = consent()));
    if (!allowed) return;
    if (started) return check();
    started = true;
    watchCart();
    loadRefersion();
  });

  guard(() => {
    cfg = JSON.parse(el.textContent) || {};
    if (!cfg.publicKey) return;
    d.addEventListener("visitorConsentCollected", decide);
    const shopify = w.Shopify;
    if (shopify && !shopify.customerPrivacy && shopify.loadFeatures) {
      const late = setTimeout(decide, 3e3); // the API may never answer
      shopify.loadFeatures([{ name: "consent-tracking-api", version: "0.1" }], (error) => { clearTimeout(late); if (error) log(error); decide(); });
    } else decide();
  })();
})();
