/**
 * Compliance requests naming thousands of orders, shared by the SQLite and PostgreSQL files:
 * SQLite refuses a statement with more than a few thousand parameters, so every list of ids the
 * app sends to the database must be cut into batches. 10,000 orders of one customer, half of them
 * found only through the order ids Shopify lists (no customer id on the row).
 */
import type { PrismaClient } from "@prisma/client";
import { expect, it } from "vitest";

export const LARGE_SHOP = "many-orders.myshopify.com";
export const OTHER_SHOP = "bystander.myshopify.com";
export const ORDER_COUNT = 10_000;
const CUSTOMER_ID = "7001001";
const EMAIL = "adaline.quenby@mail.example.com";
const FIRST_ORDER = 500_000_000;

export function orderIds(): string[] {
  return Array.from({ length: ORDER_COUNT }, (_, index) => String(FIRST_ORDER + index));
}

function storedOrder(orderId: string, shop: string, withCustomerId: boolean) {
  return {
    shop,
    orderId,
    status: "delivered" as const,
    customerId: withCustomerId ? CUSTOMER_ID : null,
    orderPayload: JSON.stringify({ id: Number(orderId), email: EMAIL, customer: { id: Number(CUSTOMER_ID), email: EMAIL, first_name: "Adaline" } }),
    requestBody: JSON.stringify({ order_id: orderId, customer: { email: EMAIL, first_name: "Adaline" } }),
  };
}

export async function seedLargeShop(prisma: PrismaClient): Promise<void> {
  await prisma.deliveryAttempt.deleteMany();
  await prisma.delivery.deleteMany();
  await prisma.complianceRequest.deleteMany();
  const ids = orderIds();
  for (let start = 0; start < ids.length; start += 500) {
    await prisma.delivery.createMany({ data: ids.slice(start, start + 500).map((id, index) => storedOrder(id, LARGE_SHOP, (start + index) % 2 === 0)) });
  }
  await prisma.delivery.createMany({ data: ids.slice(0, 10).map((id) => storedOrder(id, OTHER_SHOP, true)) });
}

interface Compliance {
  recordCustomerDataRequest(shop: string, payload: unknown): Promise<void>;
  customerDataHeld(shop: string, request: { customerId: string | null; orderIds: string[] }): Promise<unknown[]>;
  redactCustomer(shop: string, payload: unknown): Promise<void>;
  redactShop(shop: string): Promise<void>;
}

export function largeRequestTests(context: () => { prisma: PrismaClient; compliance: Compliance }) {
  const payload = (key: "orders_requested" | "orders_to_redact") => ({
    shop_domain: LARGE_SHOP,
    customer: { id: Number(CUSTOMER_ID), email: EMAIL },
    [key]: orderIds().map(Number),
  });

  it("answers a data request naming 10,000 orders with all of them", async () => {
    const { prisma, compliance } = context();
    await seedLargeShop(prisma);
    await compliance.recordCustomerDataRequest(LARGE_SHOP, payload("orders_requested"));
    const recorded = await prisma.complianceRequest.findFirstOrThrow({ where: { shop: LARGE_SHOP, topic: "customers/data_request" } });
    expect(recorded.outcome).toBe(`Stored orders found: ${ORDER_COUNT}`);
    const held = await compliance.customerDataHeld(LARGE_SHOP, { customerId: null, orderIds: orderIds() });
    expect(held).toHaveLength(ORDER_COUNT);
  });

  it("redacts a customer with 10,000 orders, and nothing of another shop", async () => {
    const { prisma, compliance } = context();
    await seedLargeShop(prisma);
    await compliance.redactCustomer(LARGE_SHOP, payload("orders_to_redact"));
    expect(await prisma.delivery.count({ where: { shop: LARGE_SHOP, personalDataRemovedAt: null } })).toBe(0);
    const left = await prisma.delivery.findMany({ where: { shop: LARGE_SHOP, OR: [{ orderPayload: { contains: EMAIL } }, { requestBody: { contains: EMAIL } }] }, take: 1 });
    expect(left).toEqual([]);
    expect(await prisma.delivery.count({ where: { shop: OTHER_SHOP, personalDataRemovedAt: null } })).toBe(10);
    const recorded = await prisma.complianceRequest.findFirstOrThrow({ where: { shop: LARGE_SHOP, topic: "customers/redact" } });
    expect(recorded.outcome).toBe(`Stored orders with personal data removed: ${ORDER_COUNT}`);
  });

  it("deletes a shop with 10,000 orders, and nothing of another shop", async () => {
    const { prisma, compliance } = context();
    await seedLargeShop(prisma);
    await compliance.redactShop(LARGE_SHOP);
    expect(await prisma.delivery.count({ where: { shop: LARGE_SHOP } })).toBe(0);
    expect(await prisma.delivery.count({ where: { shop: OTHER_SHOP } })).toBe(10);
  });
}
