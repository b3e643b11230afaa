/**
 * Calendar days in a time zone (an IANA name, such as the shop's from Shopify's settings): which
 * day an instant falls on there, and the instant a day begins there. Plain Intl, no admin
 * dependency, so the admin's formats and the resend form's days share it.
 */
export const DEFAULT_TIME_ZONE = "UTC";

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(kind: "dayKey" | "parts", timeZone: string): Intl.DateTimeFormat {
  const key = `${kind}\n${timeZone}`;
  let format = formats.get(key);
  if (!format) {
    const zone = isTimeZone(timeZone) ? timeZone : DEFAULT_TIME_ZONE;
    format =
      kind === "dayKey"
        ? // en-CA writes 2026-12-05.
          new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone: zone })
        : new Intl.DateTimeFormat("en-US", {
            year: "numeric",
            month: "numeric",
            day: "numeric",
            hour: "numeric",
            minute: "numeric",
            second: "numeric",
            hourCycle: "h23",
            timeZone: zone,
          });
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

/** The zone's calendar day of an instant, "2026-12-05". */
export function dayKeyOf(date: Date, timeZone: string = DEFAULT_TIME_ZONE): string {
  return formatFor("dayKey", timeZone).format(date);
}

/** How far the zone is ahead of UTC at an instant, in ms. */
function offsetMs(at: number, timeZone: string): number {
  const parts = Object.fromEntries(formatFor("parts", timeZone).formatToParts(new Date(at)).map((part) => [part.type, part.value]));
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return asUtc - Math.floor(at / 1000) * 1000;
}

/** The instant the zone's day `day` (YYYY-MM-DD) begins. */
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
