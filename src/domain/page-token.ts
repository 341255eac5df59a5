// Reading a list a page at a time, and the opaque page tokens for lists ordered
// by (time, id): the last row's position, base64url JSON. A token that does not
// decode to a position Keyward could have written (an id of the id grammar, a
// time Postgres can hold) is the caller's mistake.
import { InvalidArgumentError } from "./errors.js";
import { pageLimit } from "./limits.js";
import { isId } from "./random.js";

export interface PagePosition {
  createTime: Date;
  id: string;
}

export const encodePageToken = (position: PagePosition): string =>
  Buffer.from(JSON.stringify({ t: position.createTime.toISOString(), id: position.id })).toString("base64url");

// Rows are created now; any year outside this is no position of ours (and Postgres refuses some).
const heldByStore = (time: Date): boolean => !Number.isNaN(time.getTime()) && time.getUTCFullYear() >= 1970 && time.getUTCFullYear() <= 9999;

export function decodePageToken(token: string): PagePosition {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { t?: unknown; id?: unknown };
    const createTime = new Date(typeof parsed.t === "string" ? parsed.t : NaN);
    if (typeof parsed.id !== "string" || !isId(parsed.id) || !heldByStore(createTime)) throw new Error("bad token");
    return { createTime, id: parsed.id };
  } catch {
    throw new InvalidArgumentError("page_token", "is not a token from a previous response");
  }
}

/**
 * One page of a list, of `pageSize` within pageLimit's bounds: `read` is asked
 * for one row more than the page holds, which tells whether another page
 * follows, and `tokenOf` makes that page's token from this one's last row.
 */
export async function readPage<T>(
  pageSize: number,
  read: (limit: number) => Promise<T[]>,
  tokenOf: (last: T) => string,
): Promise<{ rows: T[]; nextPageToken: string }> {
  const limit = pageLimit(pageSize);
  const rows = await read(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { rows: page, nextPageToken: rows.length > limit && last ? tokenOf(last) : "" };
}
