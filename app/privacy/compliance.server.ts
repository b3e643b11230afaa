import prisma from "../db.server";
import { logger } from "../logger.server";
import {
  parseJson,
  personalValuesIn,
  removePersonalDataFromConversion,
  removePersonalDataFromOrder,
  removeValuesFromText,
} from "./personal-data";

/** The parts of Shopify's customers/* compliance payloads we act on. */
export interface CustomerComplianceRequest {
  customerId: string | null;
  orderIds: string[];
}

function idString(value: unknown): string | null {
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  if (typeof value === "string" && /^\d+$/.test(value)) return value;
  return null;
}

/** Reads customer id and order ids from customers/data_request or customers/redact. */
export function parseCustomerCompliancePayload(payload: unknown): CustomerComplianceRequest {
  const record = (payload && typeof payload === "object" ? payload : {}) as Record<string, unknown>;
  const customer = (record.customer && typeof record.customer === "object" ? record.customer : {}) as Record<string, unknown>;
  const orders = [record.orders_requested, record.orders_to_redact].find(Array.isArray) as unknown[] | undefined;
  return {
    customerId: idString(customer.id),
    orderIds: (orders ?? []).map(idString).filter((id): id is string => id !== null),
  };
}

function customerWhere(shop: string, request: CustomerComplianceRequest) {
  const or = [
    ...(request.customerId ? [{ customerId: request.customerId }] : []),
    ...(request.orderIds.length ? [{ orderId: { in: request.orderIds } }] : []),
  ];
  return or.length ? { shop, OR: or } : null;
}

/** What we hold about a customer, for the merchant to answer a data request. */
export async function customerDataHeld(shop: string, request: CustomerComplianceRequest) {
  const where = customerWhere(shop, request);
  if (!where) return [];
  const rows = await prisma.delivery.findMany({
    where,
    orderBy: { createdAt: "asc" },
    select: { orderId: true, orderName: true, status: true, createdAt: true, requestBody: true, orderPayload: true, personalDataRemovedAt: true },
  });
  return rows.map((row) => ({
    orderId: row.orderId,
    orderName: row.orderName,
    status: row.status,
    receivedAt: row.createdAt.toISOString(),
    sentToRefersion: parseJson(row.requestBody),
    storedOrder: parseJson(row.orderPayload),
    personalDataRemovedAt: row.personalDataRemovedAt?.toISOString() ?? null,
  }));
}

/** customers/data_request: recorded; the data itself is available through customerDataHeld. */
export async function recordCustomerDataRequest(shop: string, payload: unknown) {
  const request = parseCustomerCompliancePayload(payload);
  const held = await customerDataHeld(shop, request);
  await prisma.complianceRequest.create({
    data: {
      shop,
      topic: "customers/data_request",
      customerId: request.customerId,
      orderIds: request.orderIds.join(",") || null,
      outcome: `${held.length} stored order(s) found`,
    },
  });
  logger.info("customer data request recorded", { shop, customerId: request.customerId, orders: held.length });
}

/**
 * A signed customers/* request whose body could not be read: nothing names the customer, so
 * nothing is done, but the request is kept (with why) for the merchant to answer by hand.
 */
export async function recordUnreadableComplianceRequest(shop: string, topic: string, reason: string) {
  await prisma.complianceRequest.create({
    data: { shop, topic, outcome: `Not acted on: ${reason}. Answer this request by hand.` },
  });
}

/**
 * Removes a set of deliveries' personal data: the stored order loses the buyer's details, the
 * Refersion JSON loses its customer block, and names, emails and IPs found in stored
 * excerpts are replaced. Amounts, items and ids stay for the delivery log.
 */
export async function removePersonalDataFromDeliveries(shop: string, ids: string[], now = new Date()) {
  let changed = 0;
  for (const id of ids) {
    const row = await prisma.delivery.findFirst({ where: { id, shop }, select: { orderPayload: true, requestBody: true, sourceExcerpt: true } });
    if (!row) continue;
    const order = parseJson(row.orderPayload);
    const conversion = parseJson(row.requestBody);
    const values = personalValuesIn(order, conversion);
    await prisma.$transaction([
      prisma.delivery.updateMany({
        where: { id, shop },
        data: {
          orderPayload: order ? JSON.stringify(removePersonalDataFromOrder(order)) : row.orderPayload,
          requestBody: conversion ? JSON.stringify(removePersonalDataFromConversion(conversion)) : row.requestBody,
          // An unreadable body cannot be searched for personal data reliably: drop it.
          sourceExcerpt: null,
          personalDataRemovedAt: now,
        },
      }),
      ...(values.length
        ? (
            await prisma.deliveryAttempt.findMany({ where: { deliveryId: id, shop }, select: { id: true, responseExcerpt: true, error: true } })
          ).map((attempt) =>
            prisma.deliveryAttempt.update({
              where: { id: attempt.id },
              data: {
                responseExcerpt: removeValuesFromText(attempt.responseExcerpt, values),
                error: removeValuesFromText(attempt.error, values),
              },
            }),
          )
        : []),
    ]);
    changed += 1;
  }
  return changed;
}

/** customers/redact: erase that customer's personal data, keep amounts and ids. */
export async function redactCustomer(shop: string, payload: unknown, now = new Date()) {
  const request = parseCustomerCompliancePayload(payload);
  const where = customerWhere(shop, request);
  const ids = where ? (await prisma.delivery.findMany({ where, select: { id: true } })).map((row) => row.id) : [];
  const changed = await removePersonalDataFromDeliveries(shop, ids, now);
  await prisma.complianceRequest.create({
    data: {
      shop,
      topic: "customers/redact",
      customerId: request.customerId,
      orderIds: request.orderIds.join(",") || null,
      outcome: `personal data removed from ${changed} stored order(s)`,
    },
  });
  logger.info("customer redacted", { shop, customerId: request.customerId, deliveries: changed });
}

/** shop/redact (48 hours after uninstall): delete everything of the shop. */
export async function redactShop(shop: string) {
  const [attempts, deliveries, settings, sessions, requests, backfills] = await prisma.$transaction([
    prisma.deliveryAttempt.deleteMany({ where: { shop } }),
    prisma.delivery.deleteMany({ where: { shop } }),
    prisma.shopSettings.deleteMany({ where: { shop } }),
    prisma.session.deleteMany({ where: { shop } }),
    prisma.complianceRequest.deleteMany({ where: { shop } }),
    prisma.backfillJob.deleteMany({ where: { shop } }),
  ]);
  logger.info("shop redacted", {
    shop,
    attempts: attempts.count,
    deliveries: deliveries.count,
    settings: settings.count,
    sessions: sessions.count,
    complianceRequests: requests.count,
    backfillJobs: backfills.count,
  });
}
