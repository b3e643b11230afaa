import { DOCS_ORDER, orderFixture } from "../support/fixtures";

/** A buyer whose personal data is distinctive enough to be searched for in everything stored. */
export interface Buyer {
  id: number;
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  ip: string;
  street: string;
}

export const ADA: Buyer = {
  id: 7_001_001,
  firstName: "Adaline",
  lastName: "Quenby",
  email: "adaline.quenby@mail.example.com",
  phone: "+15555550111",
  ip: "198.51.100.21",
  street: "21 Juniper Row",
};

export const BO: Buyer = {
  id: 7_002_002,
  firstName: "Borislav",
  lastName: "Ekwueme",
  email: "borislav.ekwueme@mail.example.com",
  phone: "+15555550122",
  ip: "198.51.100.42",
  street: "42 Alder Court",
};

/** The values that must disappear when the buyer's personal data is removed. */
export function personalValuesOf(buyer: Buyer): string[] {
  return [buyer.firstName, buyer.lastName, buyer.email, buyer.phone, buyer.ip, buyer.street];
}

function address(buyer: Buyer) {
  return {
    first_name: buyer.firstName,
    last_name: buyer.lastName,
    name: `${buyer.firstName} ${buyer.lastName}`,
    address1: buyer.street,
    phone: buyer.phone,
    city: "Louisville",
    zip: "40202",
    country: "United States",
    country_code: "US",
  };
}

/** Shopify's documented order, placed by `buyer`, under another id. */
export function orderBy(buyer: Buyer, orderId: number): Record<string, unknown> {
  const order = orderFixture(DOCS_ORDER);
  return {
    ...order,
    id: orderId,
    admin_graphql_api_id: `gid://shopify/Order/${orderId}`,
    name: `#${orderId}`,
    email: buyer.email,
    contact_email: buyer.email,
    phone: buyer.phone,
    browser_ip: buyer.ip,
    client_details: { ...(order.client_details as object), browser_ip: buyer.ip },
    note: `Please ring ${buyer.firstName}`,
    billing_address: address(buyer),
    shipping_address: address(buyer),
    customer: {
      id: buyer.id,
      email: buyer.email,
      first_name: buyer.firstName,
      last_name: buyer.lastName,
      phone: buyer.phone,
      default_address: { ...address(buyer), customer_id: buyer.id },
    },
  };
}

/** Every text a stored row (with its attempts) holds, for searching. */
export function textsOf(row: {
  orderPayload: string | null;
  requestBody: string | null;
  sourceExcerpt: string | null;
  reason?: string | null;
  deliveryAttempts: { responseExcerpt: string | null; error: string | null }[];
}): string {
  return [
    row.orderPayload,
    row.requestBody,
    row.sourceExcerpt,
    row.reason,
    ...row.deliveryAttempts.flatMap((attempt) => [attempt.responseExcerpt, attempt.error]),
  ]
    .filter(Boolean)
    .join("\n");
}
