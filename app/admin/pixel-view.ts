import type { PixelProblem, PixelStatus } from "@prisma/client";

/** Why the checkout pixel is not connected, in the merchant's words. */
const PIXEL_PROBLEMS: Record<PixelProblem, string> = {
  offline_access: "The app's access to your shop needs renewing: open the app again, then save your settings.",
  shopify_unavailable: "Shopify could not be reached. Save your settings to try again.",
  access_denied: "Shopify refused: the app needs the permission to manage pixels. Approve the app's updated permissions, then save your settings.",
  settings_refused: "Shopify refused the pixel's settings. Save your settings to try again; if it persists, contact support.",
  unexpected_answer: "Shopify's answer could not be read. Save your settings to try again.",
};

/** The setup checklist's "Checkout pixel connected" step: done, or to do and why. */
export function pixelStepOf(pixel: { status: PixelStatus | null; problem: PixelProblem | null }): { state: "done" | "todo"; description: string } {
  if (pixel.status === "connected") {
    return { state: "done", description: "Buy it now and express checkout orders are credited from the buyer's click." };
  }
  if (pixel.status === "removed") return { state: "todo", description: "Forwarding is off, so the checkout pixel is switched off too." };
  if (pixel.problem) return { state: "todo", description: PIXEL_PROBLEMS[pixel.problem] };
  return { state: "todo", description: "Save your settings to connect the checkout pixel, which credits Buy it now and express checkout orders." };
}
