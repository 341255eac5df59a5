// CheckKeyRequest read straight from its wire bytes. protobuf-es decodes by
// reflection over the descriptor, several microseconds per check; this request
// is five string fields, which a loop reads in well under one. Anything else on
// the wire (another field, another wire type, a length past the end, bytes
// that are not UTF-8) is left to protobuf-es, so every answer, including every
// decoding error, stays protobuf-es's (test/proto/check-request-wire.test.ts
// compares the two on arbitrary bytes).
import { isUtf8 } from "node:buffer";
import type { CheckKeyRequest } from "../../../gen/keyward/v1/check_pb.js";

// Field numbers in check.proto, each with wire type 2 (length-delimited): (number << 3) | 2.
const KEY = (1 << 3) | 2;
const PERMISSIONS = (2 << 3) | 2;
const METHOD = (3 << 3) | 2;
const PATH = (4 << 3) | 2;
const CLIENT_IP = (5 << 3) | 2;
// `cost` (field 20, a varint): its tag takes two bytes, 0xa0 0x01.
const COST_TAG_FIRST = 0xa0;
const COST_TAG_SECOND = 0x01;

/** The request, or undefined when the bytes need protobuf-es. */
export function readCheckRequest(bytes: Buffer): CheckKeyRequest | undefined {
  const request: CheckKeyRequest = { $typeName: "keyward.v1.CheckKeyRequest", key: "", permissions: [], method: "", path: "", clientIp: "" };
  let at = 0;
  while (at < bytes.length) {
    const tag = bytes[at++]!;
    if (tag === COST_TAG_FIRST && bytes[at] === COST_TAG_SECOND) {
      // A uint32 of at most 5 bytes; anything longer (or wider) is left to protobuf-es.
      at++;
      let value = 0;
      let scale = 1;
      let byte: number;
      do {
        if (at >= bytes.length || scale > 0x80 ** 4) return undefined;
        byte = bytes[at++]!;
        value += (byte & 0x7f) * scale;
        scale *= 0x80;
      } while (byte & 0x80);
      if (value > 0xffffffff) return undefined;
      request.cost = value;
      continue;
    }
    // A varint length, at most 4 bytes (a request is at most 1 MiB).
    let length = 0;
    let shift = 0;
    let byte: number;
    do {
      if (at >= bytes.length || shift > 21) return undefined;
      byte = bytes[at++]!;
      length |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    const end = at + length;
    if (end > bytes.length) return undefined;
    const text = utf8(bytes, at, end);
    if (text === undefined) return undefined;
    at = end;
    // A singular field seen twice keeps the last value, as protobuf requires.
    if (tag === KEY) request.key = text;
    else if (tag === PERMISSIONS) request.permissions.push(text);
    else if (tag === METHOD) request.method = text;
    else if (tag === PATH) request.path = text;
    else if (tag === CLIENT_IP) request.clientIp = text;
    else return undefined;
  }
  return request;
}

function utf8(bytes: Buffer, start: number, end: number): string | undefined {
  for (let i = start; i < end; i++) {
    if (bytes[i]! >= 0x80) return isUtf8(bytes.subarray(start, end)) ? bytes.toString("utf8", start, end) : undefined;
  }
  return bytes.toString("latin1", start, end);
}
