/**
 * The worker hands every order it delivered in a pass to settleReversalsAwaitingOrders: however
 * many there are, they are looked up in batches within SQLite's parameter limit.
 */
import prisma from "~/db.server";
import { settleReversalsAwaitingOrders } from "~/reversals/store.server";

it("finds the refunds set aside for 5,000 delivered orders in one call", async () => {
  const shop = "many-delivered.myshopify.com";
  const orders = Array.from({ length: 5_000 }, (_, index) => ({ shop, orderId: String(900_000 + index) }));
  await prisma.delivery.createMany({ data: orders.map(({ orderId }) => ({ shop, orderId, status: "delivered" as const })) });
  await expect(settleReversalsAwaitingOrders(orders)).resolves.toBe(0);
});
