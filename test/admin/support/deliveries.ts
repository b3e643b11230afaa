import type { Prisma } from "@prisma/client";
import prisma from "~/db.server";

let sequence = 0;

/** The JSON a mapped order sends to Refersion (shape of the seed's step 3), for log rows. */
export function conversionJson(orderId: string): string {
  return JSON.stringify({
    cart_id: `c1-${orderId}`,
    order_id: orderId,
    currency_code: "USD",
    shipping: 5,
    tax: 1.2,
    discount: 0,
    items: [{ sku: "SKU-1", quantity: 2, price: 6.25, name: "Socks" }],
  });
}

/** A row of the outbox as the intake and the worker leave it; pass what differs. */
export async function insertDelivery(
  shop: string,
  overrides: Partial<Prisma.DeliveryUncheckedCreateInput> = {},
  attempts: Omit<Prisma.DeliveryAttemptUncheckedCreateInput, "deliveryId" | "shop">[] = [],
) {
  sequence += 1;
  const orderId = overrides.orderId ?? String(7_000_000 + sequence);
  const row = await prisma.delivery.create({
    data: {
      shop,
      orderId,
      orderName: `#${1000 + sequence}`,
      totalAmount: "12.50",
      currency: "USD",
      status: "delivered",
      requestBody: conversionJson(orderId),
      attempts: attempts.length,
      ...overrides,
    },
  });
  for (const attempt of attempts) await prisma.deliveryAttempt.create({ data: { ...attempt, deliveryId: row.id, shop } });
  return row;
}
