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
 * Refersion JSON loses its customer block, and the buyer's names, email, phone, address and IP
 * found in stored excerpts are replaced. Amounts, items and ids stay for the delivery log.
 *
 * The values searched for come from every row of the same order, its order row above all: a
 * reversal row (cancel, refund) stores Shopify's refund, not the buyer, yet Refersion's answer
 * to it may quote the buyer. Each order is read and written in one transaction, so a payload
 * stored meanwhile is not left behind half cleaned. Returns how many rows were changed.
 */
export async function removePersonalDataFromDeliveries(shop: string, ids: string[], now = new Date()) {
  const rows = await prisma.delivery.findMany({ where: { shop, id: { in: ids } }, select: { id: true, orderId: true } });
  const idsByOrder = new Map<string, string[]>();
  for (const row of rows) idsByOrder.set(row.orderId, [...(idsByOrder.get(row.orderId) ?? []), row.id]);
  let changed = 0;
  for (const [orderId, orderRowIds] of idsByOrder) {
    changed += await prisma.$transaction(async (tx) => {
      const orderRows = await tx.delivery.findMany({
        where: { shop, orderId },
        select: { id: true, orderPayload: true, requestBody: true },
      });
      const values = new Set<string>();
      for (const row of orderRows) for (const value of personalValuesIn(parseJson(row.orderPayload), parseJson(row.requestBody))) values.add(value);
      const searched = [...values];
      let count = 0;
      for (const row of orderRows.filter((candidate) => orderRowIds.includes(candidate.id))) {
        const order = parseJson(row.orderPayload);
        const conversion = parseJson(row.requestBody);
        count += (
          await tx.delivery.updateMany({
            where: { id: row.id, shop },
            data: {
              orderPayload: order ? JSON.stringify(removePersonalDataFromOrder(order)) : row.orderPayload,
              requestBody: conversion ? JSON.stringify(removePersonalDataFromConversion(conversion)) : row.requestBody,
              // An unreadable body cannot be searched for personal data reliably: drop it.
              sourceExcerpt: null,
              personalDataRemovedAt: now,
            },
          })
        ).count;
        if (searched.length === 0) continue;
        const attempts = await tx.deliveryAttempt.findMany({ where: { deliveryId: row.id, shop }, select: { id: true, responseExcerpt: true, error: true } });
        for (const attempt of attempts) {
          const responseExcerpt = removeValuesFromText(attempt.responseExcerpt, searched);
          const error = removeValuesFromText(attempt.error, searched);
          if (responseExcerpt === attempt.responseExcerpt && error === attempt.error) continue;
          await tx.deliveryAttempt.updateMany({ where: { id: attempt.id, shop }, data: { responseExcerpt, error } });
        }
      }
      return count;
    });
  }
  return changed;
}

/**
 * customers/redact: erase that customer's personal data, keep amounts and ids. Every row of the
 * customer's orders is cleaned, whatever its kind: reversal rows too, and rows of a listed order
 * that name no customer (an order that could not be mapped).
 */
export async function redactCustomer(shop: string, payload: unknown, now = new Date()) {
  const request = parseCustomerCompliancePayload(payload);
  const where = customerWhere(shop, request);
  const orderIds = where ? [...new Set((await prisma.delivery.findMany({ where, select: { orderId: true } })).map((row) => row.orderId))] : [];
  const ids = orderIds.length
    ? (await prisma.delivery.findMany({ where: { shop, orderId: { in: orderIds } }, select: { id: true } })).map((row) => row.id)
    : [];
  await removePersonalDataFromDeliveries(shop, ids, now);
  await prisma.complianceRequest.create({
    data: {
      shop,
      topic: "customers/redact",
      customerId: request.customerId,
      orderIds: request.orderIds.join(",") || null,
      outcome: `personal data removed from ${orderIds.length} stored order(s)`,
    },
  });
  logger.info("customer redacted", { shop, customerId: request.customerId, orders: orderIds.length, deliveries: ids.length });
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
