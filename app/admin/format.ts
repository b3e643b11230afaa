/**
 * Formatting for the admin's view models: one date format across the app, in the shop's time
 * zone (its IANA name from Shopify's settings, `shop-time-zone.server.ts`). Everything
 * is formatted on the server, so the browser renders exactly the HTML the server sent (no
 * hydration differences between the merchant's browser and the server).
 */
export const DEFAULT_TIME_ZONE = "UTC";

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(kind: "dateTime" | "date" | "weekday" | "dayKey" | "parts", timeZone: string): Intl.DateTimeFormat {
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
      // en-CA writes 2026-12-05.
      dayKey: { year: "numeric", month: "2-digit", day: "2-digit" },
      parts: { year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric", hourCycle: "h23" },
    };
    format = new Intl.DateTimeFormat(kind === "dayKey" ? "en-CA" : "en-US", { ...options[kind], timeZone: zone });
    formats.set(key, format);
  }
  return format;
}

/** Whether Intl knows the IANA name (Shopify's names are; anything else falls back to UTC). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** "Dec 5, 2026, 1:04 PM EST", in the shop's time zone. */
export function formatDateTime(date: Date | null | undefined, timeZone: string = DEFAULT_TIME_ZONE): string | null {
  return date ? formatFor("dateTime", timeZone).format(date).replace(/\u202f/g, " ") : null;
}

/** The shop's calendar day of an instant, "2026-12-05". */
export function dayKeyOf(date: Date, timeZone: string = DEFAULT_TIME_ZONE): string {
  return formatFor("dayKey", timeZone).format(date);
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

/** How far the zone is ahead of UTC at an instant, in ms. */
function offsetMs(at: number, timeZone: string): number {
  const parts = Object.fromEntries(formatFor("parts", timeZone).formatToParts(new Date(at)).map((part) => [part.type, part.value]));
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return asUtc - Math.floor(at / 1000) * 1000;
}

/** The instant the shop's day `day` (YYYY-MM-DD) begins. */
export function startOfDay(day: string, timeZone: string = DEFAULT_TIME_ZONE): Date {
  const [year, month, date] = day.split("-").map(Number);
  const midnightUtc = Date.UTC(year, month - 1, date);
  const first = midnightUtc - offsetMs(midnightUtc, timeZone);
  // Across a change of offset the first guess is off by the change: correct it once.
  const second = midnightUtc - offsetMs(first, timeZone);
  return new Date(second);
}

/** The day `days` calendar days after `day` (negative: before), "2026-12-05" -> "2026-11-29" for -6. */
export function addDays(day: string, days: number): string {
  const [year, month, date] = day.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, date + days)).toISOString().slice(0, 10);
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
