import { addDays, dayKeyOf, formatDate, formatDateTime, formatDay, startOfDay } from "~/admin/format";

describe("one date format, in the shop's time zone", () => {
  const instant = new Date("2026-12-05T03:30:00Z");

  it.each([
    ["UTC", "Dec 5, 2026, 3:30 AM UTC", "2026-12-05"],
    ["America/New_York", "Dec 4, 2026, 10:30 PM EST", "2026-12-04"],
    ["Asia/Kolkata", "Dec 5, 2026, 9:00 AM GMT+5:30", "2026-12-05"],
    ["Not/AZone", "Dec 5, 2026, 3:30 AM UTC", "2026-12-05"],
  ])("GIVEN the shop's zone %s THEN times and days are the shop's", (zone, text, day) => {
    expect(formatDateTime(instant, zone)).toBe(text);
    expect(dayKeyOf(instant, zone)).toBe(day);
  });

  it("finds where the shop's day begins, across a change of offset too", () => {
    expect(startOfDay("2026-12-05", "America/New_York").toISOString()).toBe("2026-12-05T05:00:00.000Z");
    expect(startOfDay("2026-03-09", "America/New_York").toISOString()).toBe("2026-03-09T04:00:00.000Z");
    expect(startOfDay("2026-12-05", "Asia/Kolkata").toISOString()).toBe("2026-12-04T18:30:00.000Z");
    expect(startOfDay("2026-12-05", "UTC").toISOString()).toBe("2026-12-05T00:00:00.000Z");
  });

  it("counts calendar days and names them", () => {
    expect(addDays("2026-03-01", -1)).toBe("2026-02-28");
    expect(addDays("2026-12-05", -6)).toBe("2026-11-29");
    expect(formatDay("2026-12-05")).toBe("Sat 5");
    // A day on its own is written as in a date and time.
    expect(formatDate("2026-12-05")).toBe("Dec 5, 2026");
    expect(formatDateTime(new Date("2026-12-05T12:00:00Z"))).toMatch(/^Dec 5, 2026, /);
    expect(formatDateTime(null)).toBeNull();
  });
});
