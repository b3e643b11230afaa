/**
 * A stand-in for App Bridge's script (https://cdn.shopify.com/shopifycloud/app-bridge.js), which
 * Shopify hosts and which cannot load off Shopify's admin. Served in its place to a test browser
 * or the bench, it gives a page what the admin pages use of App Bridge: `shopify.toast.show` and
 * the `ui-save-bar` element (show, hide, `showing`), recording both on `window.appBridgeStandin`
 * so a test can see what the admin would have shown. A save bar's buttons are clicked by the test
 * the way App Bridge relays a click on its own Save or Discard.
 */
export const APP_BRIDGE_SCRIPT_URL = "https://cdn.shopify.com/shopifycloud/app-bridge.js";

export const APP_BRIDGE_STANDIN_SCRIPT = `
(() => {
  const record = { toasts: [], saveBars: {} };
  window.appBridgeStandin = record;
  window.shopify = {
    toast: { show(message, options) { record.toasts.push({ message, isError: Boolean(options && options.isError) }); } },
  };
  class SaveBar extends HTMLElement {
    constructor() { super(); this._showing = false; }
    get showing() { return this._showing; }
    _set(showing) {
      this._showing = showing;
      record.saveBars[this.id] = showing;
      this.dispatchEvent(new Event(showing ? "show" : "hide"));
      return Promise.resolve();
    }
    show() { return this._set(true); }
    hide() { return this._set(false); }
    toggle() { return this._set(!this._showing); }
  }
  // App Bridge shows the bar in the admin's own header, never inside the app's frame.
  const style = document.createElement("style");
  style.textContent = "ui-save-bar { display: none; }";
  document.head.appendChild(style);
  customElements.define("ui-save-bar", SaveBar);
})();
`;
