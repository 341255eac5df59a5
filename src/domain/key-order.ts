// The key list's sort orders and their page tokens (issue #23: sort by any column).
// A token carries the order and direction it was made for along with the last
// row's sort value and id, so a token cannot silently continue a different order.
import type { ApiKeyRecord } from "../storage/records.js";
import { InvalidArgumentError } from "./errors.js";
import { isId } from "./random.js";

export type ApiKeyOrderColumn = "create_time" | "name" | "expire_time" | "last_used_time";

export interface ApiKeyOrder {
  column: ApiKeyOrderColumn;
  descending: boolean;
}

/** The last row's place in an order: its sort value (a never-used key's last use is null) and id. */
export interface ApiKeyPosition {
  value: string | Date | null;
  id: string;
}

const COLUMNS: readonly ApiKeyOrderColumn[] = ["create_time", "name", "expire_time", "last_used_time"];

export function positionOf(key: ApiKeyRecord, order: ApiKeyOrder): ApiKeyPosition {
  switch (order.column) {
    case "name":
      return { value: key.name, id: key.id };
    case "expire_time":
      return { value: key.expireTime, id: key.id };
    case "last_used_time":
      return { value: key.lastUsedTime ?? null, id: key.id };
    case "create_time":
      return { value: key.createTime, id: key.id };
  }
}

export function encodeKeyPageToken(order: ApiKeyOrder, position: ApiKeyPosition): string {
  const v = position.value instanceof Date ? position.value.toISOString() : position.value;
  return Buffer.from(JSON.stringify({ o: order.column, d: order.descending, v, id: position.id })).toString("base64url");
}

// Rows are created now; any year outside this is no position of ours (and Postgres refuses some).
const heldByStore = (time: Date): boolean => !Number.isNaN(time.getTime()) && time.getUTCFullYear() >= 1970 && time.getUTCFullYear() <= 9999;

const badToken = () => new InvalidArgumentError("page_token", "is not a token from a previous response");

export function decodeKeyPageToken(token: string, order: ApiKeyOrder): ApiKeyPosition {
  let parsed: { o?: unknown; d?: unknown; v?: unknown; id?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as typeof parsed;
  } catch {
    throw badToken();
  }
  if (typeof parsed !== "object" || parsed === null || typeof parsed.id !== "string" || !isId(parsed.id)) throw badToken();
  if (!COLUMNS.includes(parsed.o as ApiKeyOrderColumn) || typeof parsed.d !== "boolean") throw badToken();
  if (parsed.o !== order.column || parsed.d !== order.descending) {
    throw new InvalidArgumentError("page_token", "belongs to another order");
  }
  if (order.column === "name") {
    if (typeof parsed.v !== "string" || parsed.v.length > 1000) throw badToken();
    return { value: parsed.v, id: parsed.id };
  }
  if (order.column === "last_used_time" && parsed.v === null) return { value: null, id: parsed.id };
  const time = new Date(typeof parsed.v === "string" ? parsed.v : NaN);
  if (!heldByStore(time)) throw badToken();
  return { value: time, id: parsed.id };
}
