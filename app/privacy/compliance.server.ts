import type { Prisma } from "@prisma/client";
import { inBatches } from "../database/batches";
import { configuredKeys, openValue } from "../database/sealed-values.server";
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

/**
 * The ids of the shop's rows that belong to the request: named by customer id, or by one of the
 * order ids Shopify lists (in batches: a request may list thousands).
 */
async function rowsOfRequest<T extends Prisma.DeliverySelect>(shop: string, request: CustomerComplianceRequest, select: T) {
  const rows = new Map<string, Prisma.DeliveryGetPayload<{ select: T }>>();
  const add = (found: Prisma.DeliveryGetPayload<{ select: T }>[]) => {
    for (const row of found) rows.set((row as unknown as { id: string }).id, row);
  };
  const selected = { ...select, id: true } as T;
  if (request.customerId) add(await prisma.delivery.findMany({ where: { shop, customerId: request.customerId }, select: selected }));
  for (const orderIds of inBatches([...new Set(request.orderIds)])) {
    add(await prisma.delivery.findMany({ where: { shop, orderId: { in: orderIds } }, select: selected }));
  }
  return [...rows.values()];
}

/** What we hold about a customer, for the merchant to answer a data request. */
export async function customerDataHeld(shop: string, request: CustomerComplianceRequest) {
  const rows = await rowsOfRequest(shop, request, {
    id: true,
    orderId: true,
    orderName: true,
    status: true,
    createdAt: true,
    requestBody: true,
    orderPayload: true,
    personalDataRemovedAt: true,
  });
  rows.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
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
export async function recordCustomerDataRequest(shop: string, payload: unknown, now = new Date()) {
  await carryOutRecorded(shop, "customers/data_request", parseCustomerCompliancePayload(payload), now);
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

/** Orders cleaned per transaction: short enough not to hold SQLite's writer for long. */
const ORDERS_PER_TRANSACTION = 100;

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
  const idsByOrder = new Map<string, Set<string>>();
  for (const batch of inBatches([...new Set(ids)])) {
    for (const row of await prisma.delivery.findMany({ where: { shop, id: { in: batch } }, select: { id: true, orderId: true } })) {
      idsByOrder.set(row.orderId, (idsByOrder.get(row.orderId) ?? new Set()).add(row.id));
    }
  }
  let changed = 0;
  // Several orders per transaction (each order still read and written inside one), so that a
  // customer with thousands of orders is not thousands of transactions.
  for (const orderIds of inBatches([...idsByOrder.keys()], ORDERS_PER_TRANSACTION)) {
    changed += await prisma.$transaction(
      async (tx) => {
        const orderRows = await tx.delivery.findMany({
          where: { shop, orderId: { in: orderIds } },
          select: { id: true, orderId: true, orderPayload: true, requestBody: true },
        });
        const chosen = orderRows.filter((row) => idsByOrder.get(row.orderId)?.has(row.id));
        const attempts = await tx.deliveryAttempt.findMany({
          where: { shop, deliveryId: { in: chosen.map((row) => row.id) } },
          select: { id: true, deliveryId: true, responseExcerpt: true, error: true },
        });
        let count = 0;
        for (const orderId of orderIds) {
          const rowsOfOrder = orderRows.filter((row) => row.orderId === orderId);
          const values = new Set<string>();
          for (const row of rowsOfOrder) for (const value of personalValuesIn(parseJson(row.orderPayload), parseJson(row.requestBody))) values.add(value);
          const searched = [...values];
          for (const row of chosen.filter((candidate) => candidate.orderId === orderId)) {
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
            for (const attempt of attempts.filter((candidate) => candidate.deliveryId === row.id)) {
              const responseExcerpt = removeValuesFromText(attempt.responseExcerpt, searched);
              const error = removeValuesFromText(attempt.error, searched);
              if (responseExcerpt === attempt.responseExcerpt && error === attempt.error) continue;
              await tx.deliveryAttempt.updateMany({ where: { id: attempt.id, shop }, data: { responseExcerpt, error } });
            }
          }
        }
        return count;
      },
      { timeout: 60_000 },
    );
  }
  return changed;
}

/**
 * customers/redact: erase that customer's personal data, keep amounts and ids. Every row of the
 * customer's orders is cleaned, whatever its kind: reversal rows too, and rows of a listed order
 * that name no customer (an order that could not be mapped).
 */
export async function redactCustomer(shop: string, payload: unknown, now = new Date()) {
  await carryOutRecorded(shop, "customers/redact", parseCustomerCompliancePayload(payload), now);
}

/** shop/redact (48 hours after uninstall): delete everything of the shop. */
export async function redactShop(shop: string, now = new Date()) {
  await carryOutRecorded(shop, "shop/redact", { customerId: null, orderIds: [] }, now);
}

export type ComplianceTopic = "customers/data_request" | "customers/redact" | "shop/redact";

/** What a failed request's row says until it is done (the status, not this text, is what is acted on). */
const NOT_DONE_YET = "Not done yet: the app could not carry out this request and tries again every hour.";

/**
 * Carries out a compliance request and records it. A request that fails (the database refusing
 * a statement, a timeout) is recorded as failed, logged as an error and acknowledged: the hourly
 * maintenance tries it again (retryFailedComplianceRequests) and the Privacy requests page shows
 * it. Only a failure to record it at all reaches Shopify, which then sends the webhook again.
 */
async function carryOutRecorded(shop: string, topic: ComplianceTopic, request: CustomerComplianceRequest, now: Date) {
  const recorded = { shop, topic, customerId: request.customerId, orderIds: request.orderIds.join(",") || null, lastAttemptAt: now };
  let outcome: string;
  try {
    outcome = await carryOut(shop, topic, request, now);
  } catch (error) {
    logger.error("compliance request failed; kept to be tried again", { shop, topic, customerId: request.customerId, error: errorMessage(error) });
    await prisma.complianceRequest.create({ data: { ...recorded, outcome: NOT_DONE_YET, status: "failed" } });
    return;
  }
  // shop/redact leaves nothing of the shop behind, this record included.
  if (topic !== "shop/redact") await prisma.complianceRequest.create({ data: { ...recorded, outcome, status: "done" } });
}

/** How long a customers/* request waits for the customer's received order webhooks to be acted on (the background work polls every 200 ms). */
const WAIT_FOR_RECEIVED_MS = 3_000;
const RECEIVED_POLL_MS = 100;

/** Whether a waiting webhook's body names the customer or one of the orders of the request. */
function concernsRequest(sealed: string, request: CustomerComplianceRequest): boolean {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(openValue(sealed, configuredKeys().all)) as Record<string, unknown>;
  } catch {
    // A body that cannot be opened can never be acted on, so it never becomes a stored order.
    return false;
  }
  const customer = (body.customer && typeof body.customer === "object" ? body.customer : {}) as Record<string, unknown>;
  const orderId = idString(body.order_id) ?? idString(body.id);
  return (request.customerId !== null && idString(customer.id) === request.customerId) || (orderId !== null && request.orderIds.includes(orderId));
}

/**
 * How many of the shop's order webhooks acknowledged on the fast path, not acted on yet, concern
 * the request. `judged` remembers each row's answer between looks, so a backlog's bodies are
 * opened once, not at every look.
 */
async function receivedWebhooksOfRequest(shop: string, request: CustomerComplianceRequest, judged: Map<number, boolean>): Promise<number> {
  const waiting = await prisma.receivedWebhook.findMany({ where: { shop }, select: { sequence: true } });
  const unjudged = waiting.map((row) => row.sequence).filter((sequence) => !judged.has(sequence));
  for (const sequences of inBatches(unjudged)) {
    for (const row of await prisma.receivedWebhook.findMany({ where: { shop, sequence: { in: sequences } }, select: { sequence: true, payload: true } })) {
      judged.set(row.sequence, concernsRequest(row.payload, request));
    }
  }
  return waiting.filter((row) => judged.get(row.sequence) === true).length;
}

/**
 * A customers/* request is carried out only once no order webhook of that customer waits in
 * ReceivedWebhook (docs/decisions/0014): otherwise the order would be stored after the request
 * and missed by it. The background work acts on them within a moment; when some still wait after
 * a short wait (one failing, or no background work running), the request fails here, is recorded
 * as failed and is carried out again by the hourly maintenance. A row that keeps failing is
 * deleted at the end of the retention period (retention.server.ts), so none blocks a request for longer.
 * Without a request (shop/redact): only the rows being acted on at this moment (leased) are waited for.
 */
async function waitForReceivedWebhooks(shop: string, request: CustomerComplianceRequest | null) {
  const until = Date.now() + WAIT_FOR_RECEIVED_MS;
  const judged = new Map<number, boolean>();
  for (;;) {
    const waiting = request
      ? await receivedWebhooksOfRequest(shop, request, judged)
      : await prisma.receivedWebhook.count({ where: { shop, leaseUntil: { gt: new Date() } } });
    if (waiting === 0) return;
    if (Date.now() >= until) throw new Error(`Order webhooks ${request ? "of this customer" : "of the shop"} not acted on yet: ${waiting}`);
    await new Promise((resolve) => setTimeout(resolve, RECEIVED_POLL_MS));
  }
}

async function carryOut(shop: string, topic: ComplianceTopic, request: CustomerComplianceRequest, now: Date): Promise<string> {
  // shop/redact deletes the shop's waiting webhooks with the rest (deleteShopData), once none is
  // being acted on (leased); one acted on afterwards finds the shop unknown and is dropped.
  await waitForReceivedWebhooks(shop, topic === "shop/redact" ? null : request);
  switch (topic) {
    case "customers/data_request": {
      const held = await customerDataHeld(shop, request);
      logger.info("customer data request recorded", { shop, customerId: request.customerId, orders: held.length });
      // "Label: count" reads right for any count, with no plural to get wrong.
      return `Stored orders found: ${held.length}`;
    }
    case "customers/redact":
      return `Stored orders with personal data removed: ${await removeCustomerPersonalData(shop, request, now)}`;
    case "shop/redact":
      await deleteShopData(shop);
      return "shop data deleted";
  }
}

/**
 * Failed compliance requests, carried out again (the hourly maintenance runs this). A request
 * that fails again stays failed, with one more attempt counted. Returns how many are now done.
 */
export async function retryFailedComplianceRequests(now = new Date(), limit = 50): Promise<number> {
  const failed = await prisma.complianceRequest.findMany({ where: { status: "failed" }, orderBy: { receivedAt: "asc" }, take: limit });
  let done = 0;
  for (const row of failed) {
    const topic = row.topic as ComplianceTopic;
    const request = { customerId: row.customerId, orderIds: row.orderIds ? row.orderIds.split(",").filter(Boolean) : [] };
    try {
      const outcome = await carryOut(row.shop, topic, request, now);
      // After shop/redact the row is gone with the rest of the shop.
      await prisma.complianceRequest.updateMany({ where: { id: row.id }, data: { status: "done", outcome, attempts: { increment: 1 }, lastAttemptAt: now } });
      done += 1;
      logger.info("failed compliance request carried out", { shop: row.shop, topic, attempts: row.attempts + 1 });
    } catch (error) {
      await prisma.complianceRequest.update({ where: { id: row.id }, data: { attempts: { increment: 1 }, lastAttemptAt: now } });
      logger.error("compliance request failed again", { shop: row.shop, topic, attempts: row.attempts + 1, error: errorMessage(error) });
    }
  }
  return done;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Every row of the customer's orders loses its personal data; returns how many orders. */
async function removeCustomerPersonalData(shop: string, request: CustomerComplianceRequest, now: Date): Promise<number> {
  const orderIds = [...new Set((await rowsOfRequest(shop, request, { orderId: true })).map((row) => row.orderId))];
  const ids: string[] = [];
  for (const batch of inBatches(orderIds)) {
    for (const row of await prisma.delivery.findMany({ where: { shop, orderId: { in: batch } }, select: { id: true } })) ids.push(row.id);
  }
  await removePersonalDataFromDeliveries(shop, ids, now);
  // The checkout pixel's reports link these orders to a click: removed with them, and those for
  // orders Shopify names that never arrived.
  for (const batch of inBatches([...new Set([...orderIds, ...request.orderIds])])) {
    await prisma.clickHint.deleteMany({ where: { shop, orderId: { in: batch } } });
  }
  logger.info("customer redacted", { shop, customerId: request.customerId, orders: orderIds.length, deliveries: ids.length });
  return orderIds.length;
}

/** Deletes every row of the shop, in every table, in one transaction. */
async function deleteShopData(shop: string) {
  const [attempts, deliveries, settings, sessions, requests, backfills, conversions, receivers, hints, received] = await prisma.$transaction([
    prisma.deliveryAttempt.deleteMany({ where: { shop } }),
    prisma.delivery.deleteMany({ where: { shop } }),
    prisma.shopSettings.deleteMany({ where: { shop } }),
    prisma.session.deleteMany({ where: { shop } }),
    prisma.complianceRequest.deleteMany({ where: { shop } }),
    prisma.backfillJob.deleteMany({ where: { shop } }),
    prisma.conversion.deleteMany({ where: { shop } }),
    prisma.conversionReceiver.deleteMany({ where: { shop } }),
    prisma.clickHint.deleteMany({ where: { shop } }),
    // Webhooks acknowledged but not acted on yet (the order webhooks' fast path).
    prisma.receivedWebhook.deleteMany({ where: { shop } }),
  ]);
  logger.info("shop redacted", {
    shop,
    attempts: attempts.count,
    deliveries: deliveries.count,
    settings: settings.count,
    sessions: sessions.count,
    complianceRequests: requests.count,
    backfillJobs: backfills.count,
    conversions: conversions.count,
    conversionReceivers: receivers.count,
    clickHints: hints.count,
    receivedWebhooks: received.count,
  });
}
