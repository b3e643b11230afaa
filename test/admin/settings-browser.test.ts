import fs from "node:fs";
import path from "node:path";
import { DEFAULT_SANDBOX_KEYS } from "../../scripts/refersion-sandbox";
import { startAdminHarness } from "../support/admin-harness";
import { launchAdminBrowser, type AdminBrowser } from "../support/admin-browser";
import type { ProductionApp } from "../support/production-app";

/**
 * The settings form in Chromium, on the production build: where the keyboard goes on an error,
 * the secret's show toggle, messages that do not outlive the next action, saving keys tests them,
 * and App Bridge's contextual save bar (with App Bridge's script replaced by
 * scripts/app-bridge-standin.ts) beside the form's own Save button when App Bridge is missing.
 */

const SCREENSHOTS = path.resolve("test-results/admin");
const SHOP = "settings-browser.myshopify.com";
const BRIDGE_SHOP = "settings-bridge.myshopify.com";
const KEYS = DEFAULT_SANDBOX_KEYS;

const harness = await startAdminHarness();
const { default: prisma } = await import("~/db.server");

let server: ProductionApp;
let plain: AdminBrowser;
let bridged: AdminBrowser;

/** The label of the focused element (its <label>, or aria-label). */
function focusedLabel(browser: AdminBrowser): Promise<string | null> {
  return browser.page.evaluate(() => {
    const element = document.activeElement as HTMLInputElement | null;
    if (!element || element === document.body) return null;
    return element.labels?.[0]?.textContent ?? element.getAttribute("aria-label");
  });
}

beforeAll(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await harness.install(SHOP);
  await harness.install(BRIDGE_SHOP);
  server = await harness.startApp();
  plain = await launchAdminBrowser({ appUrl: server.url, shop: SHOP });
  bridged = await launchAdminBrowser({ appUrl: server.url, shop: BRIDGE_SHOP, appBridge: true });
}, 90_000);

afterAll(async () => {
  await plain?.close();
  await bridged?.close();
  await server?.stop();
  await harness.close();
});

describe("settings form without App Bridge", { timeout: 60_000 }, () => {
  it("moves the keyboard to the first field with an error, each time the form is refused", async () => {
    const { page } = plain;
    await plain.open("/app/settings");
    await page.getByLabel("Public key").fill("not a key!");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText("A Refersion key has only letters, digits, _ and -").waitFor();
    expect(await focusedLabel(plain)).toBe("Public key");

    await page.getByLabel("Public key").fill(KEYS.publicKey);
    await page.getByLabel("Secret key").fill("sec_short");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText(/too short for a Refersion secret key/).waitFor();
    expect(await focusedLabel(plain)).toBe("Secret key");

    await page.getByLabel("Secret key").fill(KEYS.publicKey);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText("That is your public key again: paste the secret key, shown beside it in Refersion").waitFor();
    expect(await prisma.shopSettings.findUnique({ where: { shop: SHOP } })).toBeNull();
  });

  it("takes the keyboard through the keys in reading order: public key, secret key, its Show button", async () => {
    const { page } = plain;
    await page.getByLabel("Public key").focus();
    await page.keyboard.press("Tab");
    expect(await focusedLabel(plain)).toBe("Secret key");
    await page.keyboard.press("Tab");
    expect(await focusedLabel(plain)).toBe("Show the secret you typed");
  });

  it("shows and hides the secret being typed", async () => {
    const { page } = plain;
    const secret = page.getByLabel("Secret key");
    await secret.fill(KEYS.secretKey);
    expect(await secret.getAttribute("type")).toBe("password");
    await page.getByRole("button", { name: "Show the secret you typed" }).click();
    expect(await secret.getAttribute("type")).toBe("text");
    expect(await secret.inputValue()).toBe(KEYS.secretKey);
    await page.getByRole("button", { name: "Hide the secret you typed" }).click();
    expect(await secret.getAttribute("type")).toBe("password");
  });

  it("tests the keys as they are saved and shows the outcome in the keys' card; the next edit clears the save's message", async () => {
    const { page } = plain;
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText("Settings saved").waitFor();
    const result = page.getByTestId("connection-result");
    await page.locator('[data-testid="connection-result"][data-state="valid"]').getByText("Checked just now").waitFor();
    // Beside the keys: in the same card (Polaris draws a card as a ShadowBevel) as the key fields.
    expect(await result.evaluate((element) => element.closest(".Polaris-ShadowBevel")?.querySelector('input[name="publicKey"]') !== null)).toBe(true);
    expect(await page.content()).not.toContain(KEYS.secretKey);
    expect((await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } })).connectionStatus).toBe("valid");

    await page.getByLabel("Forward test orders").check();
    await page.getByText("Settings saved").waitFor({ state: "detached" });
    // The outcome of the keys is no message about the last action: it stays.
    await result.getByText("Keys valid").waitFor();
  });

  it("drops the save's message when the merchant tests the connection", async () => {
    const { page } = plain;
    await plain.open("/app/settings");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText("Settings saved").waitFor();
    await page.getByRole("button", { name: "Test connection" }).click();
    await page.getByText("Settings saved").waitFor({ state: "detached" });
    await page.getByText("Checked just now").waitFor();
    expect(plain.problems).toEqual([]);
  });
});

describe("settings form when the saved secret cannot be read", { timeout: 60_000 }, () => {
  it("opens the secret field with its own message instead of offering to keep it", async () => {
    const { page } = plain;
    await prisma.shopSettings.update({ where: { shop: SHOP }, data: { connectionStatus: "secret_unreadable", connectionCheckedAt: new Date() } });
    await plain.open("/app/settings");
    await page.getByText("The saved secret key can no longer be read: enter it again and save").waitFor();
    await page.getByLabel("New secret key").waitFor();
    expect(await page.getByRole("button", { name: "Keep the saved secret key" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Replace secret key" }).count()).toBe(0);
    // Entering it again saves it, tests it, and the message is gone.
    await page.getByLabel("New secret key").fill(KEYS.secretKey);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.locator('[data-testid="connection-result"][data-state="valid"]').waitFor();
    expect(await page.getByText("The saved secret key can no longer be read").count()).toBe(0);
    expect(plain.problems).toEqual([]);
  });
});

describe("settings form with App Bridge's save bar", { timeout: 60_000 }, () => {
  const saveBarShowing = () => bridged.page.evaluate(() => (window as unknown as { appBridgeStandin: { saveBars: Record<string, boolean> } }).appBridgeStandin.saveBars["settings-save-bar"] ?? false);
  const toasts = () => bridged.page.evaluate(() => (window as unknown as { appBridgeStandin: { toasts: { message: string }[] } }).appBridgeStandin.toasts.map((toast) => toast.message));
  const clickSaveBar = (which: "save" | "discard") =>
    bridged.page.locator(which === "save" ? 'ui-save-bar button[variant="primary"]' : "ui-save-bar button:not([variant])").evaluate((button: HTMLButtonElement) => button.click());

  it("shows the bar only while there are unsaved changes, and has no Save button of its own then", async () => {
    const { page } = bridged;
    await bridged.open("/app/settings");
    await page.locator("ui-save-bar").waitFor({ state: "attached" });
    expect(await page.getByRole("button", { name: "Save", exact: true }).count()).toBe(0);
    expect(await saveBarShowing()).toBe(false);
    await page.getByLabel("Public key").fill(KEYS.publicKey);
    await page.waitForFunction(() => (window as unknown as { appBridgeStandin: { saveBars: Record<string, boolean> } }).appBridgeStandin.saveBars["settings-save-bar"] === true);
  });

  it("discards: the form is as loaded again and the bar hides", async () => {
    const { page } = bridged;
    await clickSaveBar("discard");
    await page.waitForFunction(() => (window as unknown as { appBridgeStandin: { saveBars: Record<string, boolean> } }).appBridgeStandin.saveBars["settings-save-bar"] === false);
    expect(await page.getByLabel("Public key").inputValue()).toBe("");
  });

  it("saves from the bar: a toast says so, the keys are tested, the bar hides", async () => {
    const { page } = bridged;
    await page.getByLabel("Public key").fill(KEYS.publicKey);
    await page.getByLabel("Secret key").fill(KEYS.secretKey);
    await clickSaveBar("save");
    await page.locator('[data-testid="connection-result"][data-state="valid"]').waitFor();
    await page.waitForFunction(() => (window as unknown as { appBridgeStandin: { toasts: unknown[] } }).appBridgeStandin.toasts.length > 0);
    expect(await toasts()).toEqual(["Settings saved"]);
    // The toast is the message: no banner repeats it.
    expect(await page.getByText("Settings saved").count()).toBe(0);
    expect(await saveBarShowing()).toBe(false);
    expect((await prisma.shopSettings.findUniqueOrThrow({ where: { shop: BRIDGE_SHOP } })).publicKey).toBe(KEYS.publicKey);
  });

  it("refuses invalid input from the bar with the field's error and the keyboard on it", async () => {
    const { page } = bridged;
    await page.getByLabel("Public key").fill("bad key");
    await clickSaveBar("save");
    await page.getByText("A Refersion key has only letters, digits, _ and -").waitFor();
    expect(await focusedLabel(bridged)).toBe("Public key");
    expect(await saveBarShowing()).toBe(true);
    expect(bridged.problems).toEqual([]);
    expect(bridged.blocked).toEqual([]);
  });
});
