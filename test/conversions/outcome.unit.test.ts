import { orderOutcome, replacesStored, type ConversionFacts, type ConversionVersion } from "~/conversions/outcome";

const HOUR = 3_600_000;
const CONNECTED = new Date("2026-12-01T00:00:00Z");
const DELIVERED = new Date("2026-12-02T12:00:00Z");
const receiver = { connectedAt: CONNECTED, graceHours: 24 };
const delivered = { status: "delivered", deliveredAt: DELIVERED };

function conversion(overrides: Partial<ConversionFacts> = {}): ConversionFacts {
  return {
    conversionId: "1",
    status: "pending",
    deniedReason: null,
    affiliateId: "8908369",
    affiliateCode: "ada1",
    affiliateName: "Ada Sandbox",
    commission: "10.00",
    total: "100.00",
    currency: "USD",
    test: false,
    refersionCreatedAt: DELIVERED,
    refersionUpdatedAt: DELIVERED,
    receivedAt: DELIVERED,
    ...overrides,
  };
}

describe("orderOutcome, with a controllable clock", () => {
  const at = (hoursAfterDelivery: number) => new Date(DELIVERED.getTime() + hoursAfterDelivery * HOUR);

  it("GIVEN no conversion THEN waiting for Refersion until the grace period passes, then no affiliate click", () => {
    expect(orderOutcome({ order: delivered, conversions: [], receiver, now: at(0) })).toEqual({ kind: "waiting", until: at(24) });
    expect(orderOutcome({ order: delivered, conversions: [], receiver, now: at(23.99) }).kind).toBe("waiting");
    expect(orderOutcome({ order: delivered, conversions: [], receiver, now: at(24) }).kind).toBe("no_affiliate_click");
    expect(orderOutcome({ order: delivered, conversions: [], receiver: { ...receiver, graceHours: 48 }, now: at(30) }).kind).toBe("waiting");
  });

  it("GIVEN a conversion THEN credited to its affiliate, whatever the clock or the outbox says", () => {
    for (const now of [at(0), at(1000)]) {
      for (const order of [delivered, null, { status: "pending", deliveredAt: null }]) {
        const outcome = orderOutcome({ order, conversions: [conversion()], receiver, now });
        expect(outcome).toMatchObject({ kind: "credited", conversion: { affiliateCode: "ada1", commission: "10.00" } });
      }
    }
  });

  it("GIVEN only denied conversions THEN denied with the latest one's reason; GIVEN one credited beside them THEN credited", () => {
    const denied = [
      conversion({ conversionId: "1", status: "denied", deniedReason: "Old", refersionUpdatedAt: at(1) }),
      conversion({ conversionId: "2", status: "denied", deniedReason: "Order cancelled", refersionUpdatedAt: at(2) }),
    ];
    expect(orderOutcome({ order: delivered, conversions: denied, receiver, now: at(3) })).toMatchObject({
      kind: "denied",
      conversion: { deniedReason: "Order cancelled" },
    });
    const outcome = orderOutcome({ order: delivered, conversions: [...denied, conversion({ conversionId: "3", status: "approved" })], receiver, now: at(3) });
    expect(outcome).toMatchObject({ kind: "credited", conversion: { conversionId: "3" } });
  });

  it("GIVEN no conversion and no connection, a delivery before the connection, or no delivery THEN it says which", () => {
    expect(orderOutcome({ order: delivered, conversions: [], receiver: null, now: at(100) }).kind).toBe("not_connected");
    expect(orderOutcome({ order: delivered, conversions: [], receiver: { connectedAt: null, graceHours: 24 }, now: at(100) }).kind).toBe("not_connected");
    expect(orderOutcome({ order: delivered, conversions: [], receiver: { connectedAt: at(1), graceHours: 24 }, now: at(100) }).kind).toBe("before_connection");
    expect(orderOutcome({ order: { status: "failed", deliveredAt: null }, conversions: [], receiver, now: at(100) }).kind).toBe("not_delivered");
    expect(orderOutcome({ order: null, conversions: [], receiver, now: at(100) }).kind).toBe("not_delivered");
  });
});

describe("replacesStored: which report of a conversion stands", () => {
  const v = (status: ConversionVersion["status"], minute: number | null, created: number | null = 0): ConversionVersion => ({
    status,
    refersionCreatedAt: created === null ? null : new Date(DELIVERED.getTime() + created * 60_000),
    refersionUpdatedAt: minute === null ? null : new Date(DELIVERED.getTime() + minute * 60_000),
  });

  it.each<[string, ConversionVersion, ConversionVersion, boolean]>([
    ["a later approval replaces pending", v("pending", 0), v("approved", 5), true],
    ["an older pending arriving late changes nothing", v("approved", 5), v("pending", 0), false],
    ["a later denial (a reversal) replaces an approval", v("approved", 5), v("denied", 9), true],
    ["an older denial does not replace a later approval", v("approved", 9), v("denied", 5), false],
    ["a repeat changes nothing", v("pending", 0), v("pending", 0), false],
    ["same time: a decision replaces pending", v("pending", 0), v("denied", 0), true],
    ["same time: pending does not replace a decision", v("approved", 0), v("pending", 0), false],
    ["no times: a decision replaces pending", v("pending", null, null), v("approved", null, null), true],
    ["no updated: created decides", v("pending", null, 0), v("pending", null, 3), true],
  ])("%s", (_name, stored, incoming, expected) => {
    expect(replacesStored(stored, incoming)).toBe(expected);
  });
});
