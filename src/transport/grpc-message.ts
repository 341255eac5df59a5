// connect-es percent-encodes grpc-message with encodeURIComponent, which
// escapes ':', '/', ';' and ','; @grpc/grpc-js decodes it with decodeURI,
// which leaves those escapes in place, so grpc-js users would read
// "name%3A is required". The gRPC HTTP/2 spec only requires escaping '%' and
// bytes outside 0x20–0x7E; re-encoding to that minimal form reads correctly
// in every conforming decoder.
import type { NodeResponse } from "./one-port.js";

/** The spec's percent-encoding: UTF-8, escaping only '%' and bytes outside printable ASCII. */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

type HeaderBag = Record<string, string | string[] | number | undefined>;

function reencode<T>(headers: T): T {
  if (headers === null || typeof headers !== "object" || Array.isArray(headers)) return headers;
  const bag = headers as HeaderBag;
  for (const name of Object.keys(bag)) {
    const value = bag[name];
    if (name.toLowerCase() !== "grpc-message" || typeof value !== "string") continue;
    try {
      bag[name] = encodeGrpcMessage(decodeURIComponent(value));
    } catch {
      // Not something we encoded: leave it as it is.
    }
  }
  return headers;
}

/** Makes `res` send grpc-message in the minimal encoding, in headers (trailers-only responses) and trailers. */
export function useMinimalGrpcMessageEncoding(res: NodeResponse): void {
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => unknown;
  const addTrailers = res.addTrailers.bind(res) as (trailers: unknown) => void;
  Object.assign(res, {
    writeHead: (...args: unknown[]) => writeHead(...args.map(reencode)),
    addTrailers: (trailers: unknown) => addTrailers(reencode(trailers)),
  });
}
