/**
 * Formatting for the admin's view models: one date format across the app, in the shop's time
 * zone (its IANA name from Shopify's settings, `shop-time-zone.server.ts`). Everything
 * is formatted on the server, so the browser renders exactly the HTML the server sent (no
 * hydration differences between the merchant's browser and the server).
 */
import { DEFAULT_TIME_ZONE, isTimeZone } from "../zone-days";

// The zone's days are computed in zone-days.ts (shared with the resend form); re-exported here
// so the admin has one module of formats.
export { addDays, dayKeyOf, DEFAULT_TIME_ZONE, isTimeZone, startOfDay } from "../zone-days";

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(kind: "dateTime" | "date" | "weekday", timeZone: string): Intl.DateTimeFormat {
  const key = `${kind}\n${timeZone}`;
  let format = formats.get(key);
  if (!format) {
    const zone = isTimeZone(timeZone) ? timeZone : DEFAULT_TIME_ZONE;
    const options: Record<typeof kind, Intl.DateTimeFormatOptions> = {
      // "Dec 5, 2026, 1:04 PM EST"
      dateTime: { month: "short", day: "numeric", year: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short" },
      // "Dec 5, 2026"
      date: { month: "short", day: "numeric", year: "numeric" },
      weekday: { weekday: "short", day: "numeric" },
    };
    format = new Intl.DateTimeFormat("en-US", { ...options[kind], timeZone: zone });
    formats.set(key, format);
  }
  return format;
}

/** "Dec 5, 2026, 1:04 PM EST", in the shop's time zone. */
export function formatDateTime(date: Date | null | undefined, timeZone: string = DEFAULT_TIME_ZONE): string | null {
  return date ? formatFor("dateTime", timeZone).format(date).replace(/\u202f/g, " ") : null;
}

/** "Sat 5" for a YYYY-MM-DD day. */
export function formatDay(day: string): string {
  // The day is already the shop's; noon UTC of it is that same calendar day everywhere.
  return formatFor("weekday", DEFAULT_TIME_ZONE).format(new Date(`${day}T12:00:00Z`)).split(" ").reverse().join(" ");
}

/** "Dec 5, 2026" for a YYYY-MM-DD day, the date part of formatDateTime. */
export function formatDate(day: string): string {
  // As in formatDay: noon UTC of the day is that same calendar day.
  return formatFor("date", DEFAULT_TIME_ZONE).format(new Date(`${day}T12:00:00Z`));
}

/** "$1,234.50" for ("1234.50", "USD"); the plain amount and code when Intl does not know the code. */
export function formatMoney(amount: string | number | null | undefined, currency: string | null | undefined): string | null {
  if (amount === null || amount === undefined || amount === "") return null;
  const value = Number(amount);
  if (!currency) return String(amount);
  if (!Number.isFinite(value)) return `${amount} ${currency}`;
  try {
    return new Intl.NumberFormat("en-US", { style: "currency", currency }).format(value);
  } catch {
    return `${amount} ${currency}`;
  }
}
