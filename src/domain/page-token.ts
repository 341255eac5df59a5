// Opaque page tokens for lists ordered by (time, id): the last row's position,
// base64url JSON. A token that does not decode is the caller's mistake.
import { InvalidArgumentError } from "./errors.js";

export interface PagePosition {
  createTime: Date;
  id: string;
}

export const encodePageToken = (position: PagePosition): string =>
  Buffer.from(JSON.stringify({ t: position.createTime.toISOString(), id: position.id })).toString("base64url");

export function decodePageToken(token: string): PagePosition {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { t?: unknown; id?: unknown };
    const createTime = new Date(typeof parsed.t === "string" ? parsed.t : NaN);
    if (typeof parsed.id !== "string" || Number.isNaN(createTime.getTime())) throw new Error("bad token");
    return { createTime, id: parsed.id };
  } catch {
    throw new InvalidArgumentError("page_token", "is not a token from a previous response");
  }
}
