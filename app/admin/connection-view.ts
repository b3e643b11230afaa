import type { ConnectionStatus } from "@prisma/client";
import { formatDateTime } from "./format";

/** The outcome of the last key check as the admin shows it. */
export type ConnectionState = ConnectionStatus | "no_keys" | "unchecked";
export type ConnectionTone = "success" | "critical" | "warning" | "info";

export interface ConnectionView {
  state: ConnectionState;
  tone: ConnectionTone;
  title: string;
  message: string;
  checkedAt: string | null;
}

const WORDS: Record<ConnectionState, { tone: ConnectionTone; title: string; message: string }> = {
  valid: {
    tone: "success",
    title: "Keys valid",
    message: "Refersion accepted your keys.",
  },
  rejected: {
    tone: "critical",
    title: "Keys rejected",
    message:
      "Refersion rejected these keys. Copy the public and secret key again from your Refersion account, save them, and test again.",
  },
  plan_unavailable: {
    tone: "warning",
    title: "API not available on your Refersion plan",
    message:
      "Refersion's API refused the check, which usually means your plan does not include API access. The webhook keys may still work: orders are sent to a different endpoint. Check the delivery log after your next order.",
  },
  unreachable: {
    tone: "warning",
    title: "Refersion unreachable",
    message:
      "Refersion did not answer (network error, timeout or a server error). This says nothing about your keys; try again in a few minutes. Orders are kept and retried meanwhile.",
  },
  secret_unreadable: {
    tone: "critical",
    title: "Secret key needs to be entered again",
    message:
      "The app can no longer read the secret key saved for your shop (the app's encryption key was changed). Enter your Refersion secret key again in Settings and save it, then test again. Orders are kept and sent once the key is saved.",
  },
  no_keys: {
    tone: "info",
    title: "No keys saved",
    message: "Save your Refersion public and secret key first; they are tested as they are saved.",
  },
  unchecked: {
    tone: "info",
    title: "Not tested yet",
    message: "Test the connection to check your saved keys with Refersion.",
  },
};

/** `timeZone`: the shop's, in which the time of the last check is shown. */
export function connectionView(input: { status: ConnectionStatus | null; checkedAt: Date | null; hasKeys: boolean; timeZone?: string }): ConnectionView {
  const state: ConnectionState = !input.hasKeys ? "no_keys" : (input.status ?? "unchecked");
  return { state, ...WORDS[state], checkedAt: state === "no_keys" || state === "unchecked" ? null : formatDateTime(input.checkedAt, input.timeZone) };
}
