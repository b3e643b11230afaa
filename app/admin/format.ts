/**
 * Formatting for the admin's view models. Everything is formatted on the server, in UTC, so the
 * browser renders exactly the HTML the server sent (no hydration differences between time zones).
 */
const dateTimeFormat = new Intl.DateTimeFormat("en-US", { timeZone: "UTC", dateStyle: "medium", timeStyle: "short" });
const weekdayFormat = new Intl.DateTimeFormat("en-US", { timeZone: "UTC", weekday: "short" });

export function formatDateTime(date: Date | null | undefined): string | null {
  return date ? `${dateTimeFormat.format(date)} UTC` : null;
}

/** "Mon 23" for a YYYY-MM-DD day. */
export function formatDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  return `${weekdayFormat.format(date)} ${date.getUTCDate()}`;
}

/** "$1,234.50" for ("1234.50", "USD"); the plain amount and code when Intl does not know the code. */
export function formatMoney(amount: string | null | undefined, currency: string | null | undefined): string | null {
  if (amount === null || amount === undefined || amount === "") return null;
  const value = Number(amount);
  if (!currency) return amount;
  if (!Number.isFinite(value)) return `${amount} ${currency}`;
  try {
    return new Intl.NumberFormat("en-US", { style: "currency", currency }).format(value);
  } catch {
    return `${amount} ${currency}`;
  }
}
