// Requests whose body never ends cannot hold streams (HTTP/2) or connections
// (HTTP/1.1) past KEYWARD_REQUEST_TIMEOUT, while a health Watch, whose request
// ended long ago, streams on; and what one HTTP/2 connection may make the
// server hold is bounded by the settings it announces.
import http2 from "node:http2";
import net from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  Health,
  HealthCheckRequestSchema,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus,
} from "../../gen/grpc/health/v1/health_pb.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";

const REQUEST_TIMEOUT_MS = 500;
// Generous against a loaded CI machine, yet far below "never".
const CLOSED_WITHIN_MS = 5_000;

interface Held {
  path: string;
  closedAfterMs: number;
  rstCode: number | undefined;
}

/** Opens a POST stream, sends its headers and part of its body, never ends it; resolves when the server closes it. */
function holdStream(session: http2.ClientHttp2Session, path: string, headers: http2.OutgoingHttpHeaders, partial: Buffer): Promise<Held> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const stream = session.request({ ":method": "POST", ":path": path, ...headers }, { endStream: false });
    stream.write(partial);
    stream.on("response", () => {});
    stream.on("data", () => {});
    stream.on("error", () => {});
    stream.on("close", () => resolve({ path, closedAfterMs: performance.now() - started, rstCode: stream.rstCode }));
    setTimeout(() => reject(new Error(`${path}: stream still open after ${CLOSED_WITHIN_MS} ms`)), CLOSED_WITHIN_MS).unref();
  });
}

function connect(kw: RunningKeyward): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(kw.url);
    session.once("error", reject);
    session.once("remoteSettings", () => resolve(session));
  });
}

describe("HTTP/2 and HTTP/1.1 request timeouts", () => {
  let kw: RunningKeyward;
  let auth: Record<string, string>;
  beforeAll(async () => {
    kw = await startKeyward(
      { kind: "pglite" },
      { config: { connections: { headersTimeoutMs: 400, requestTimeoutMs: REQUEST_TIMEOUT_MS, maxConnections: 1_000, maxConcurrentStreams: 64 } } },
    );
    auth = { authorization: `Bearer ${kw.adminKey}` };
  });
  afterAll(async () => {
    await kw?.close();
  });

  it("resets HTTP/2 streams whose request body never ends, on gRPC and REST paths, and frees them", async () => {
    const session = await connect(kw);
    try {
      // A gRPC frame announcing 100 bytes, of which 3 come; a JSON body announcing 100 bytes, of which 9 come.
      const grpcPartial = Buffer.concat([Buffer.from([0, 0, 0, 0, 100]), Buffer.from([1, 2, 3])]);
      const held = await Promise.all([
        ...Array.from({ length: 10 }, () =>
          holdStream(session, "/keyward.v1.CheckService/CheckKey", { "content-type": "application/grpc", te: "trailers", ...auth }, grpcPartial),
        ),
        ...Array.from({ length: 10 }, () =>
          holdStream(session, "/api/v1/api_keys", { "content-type": "application/json", "content-length": "100", ...auth }, Buffer.from('{"name":"')),
        ),
      ]);
      for (const h of held) {
        expect(h.closedAfterMs, h.path).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
        expect(h.rstCode, h.path).toBe(http2.constants.NGHTTP2_CANCEL);
      }
      // The server's own count: nothing of those streams is left.
      await vi.waitFor(() => expect(kw.keyward.server.stats()).toMatchObject({ streams: 0, requests: 0 }), { timeout: 2_000 });
      // The connection itself still serves.
      const ok = await new Promise<number>((resolve, reject) => {
        const s = session.request({ ":path": "/healthz" });
        s.on("response", (h) => resolve(Number(h[":status"])));
        s.on("error", reject);
        s.resume();
      });
      expect(ok).toBe(200);
    } finally {
      session.destroy();
    }
  });

  it("keeps a grpc.health.v1.Health/Watch stream open well past the request timeout", async () => {
    const client = new grpc.Client(`127.0.0.1:${kw.port}`, grpc.credentials.createInsecure());
    try {
      const call = client.makeServerStreamRequest(
        `/${Health.typeName}/${Health.method.watch.name}`,
        (m: ReturnType<typeof create<typeof HealthCheckRequestSchema>>) => Buffer.from(toBinary(HealthCheckRequestSchema, m)),
        (b: Buffer) => fromBinary(HealthCheckResponseSchema, b),
        create(HealthCheckRequestSchema, { service: "" }),
      );
      let ended: unknown;
      call.on("error", (e) => (ended ??= e));
      call.on("end", () => (ended ??= "end"));
      const first = await new Promise((resolve) => call.once("data", resolve));
      expect(first).toMatchObject({ status: HealthCheckResponse_ServingStatus.SERVING });
      // Twice the timeout: a stream held to it would have been reset half-way through.
      await new Promise((resolve) => setTimeout(resolve, REQUEST_TIMEOUT_MS * 2));
      expect(ended).toBeUndefined();
      expect(kw.keyward.server.stats().streams).toBe(1);
      call.cancel();
    } finally {
      client.close();
    }
  });

  it("answers an HTTP/1.1 request whose body never ends with 408 and closes the connection", async () => {
    const answer = await new Promise<{ text: string; closedAfterMs: number }>((resolve, reject) => {
      const started = performance.now();
      let text = "";
      const socket = net.connect(kw.port, "127.0.0.1", () =>
        socket.write(`POST /api/v1/api_keys HTTP/1.1\r\nHost: keyward\r\nAuthorization: ${auth.authorization}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":"`),
      );
      socket.on("data", (d) => (text += d.toString("latin1")));
      socket.on("error", () => {});
      socket.on("close", () => resolve({ text, closedAfterMs: performance.now() - started }));
      setTimeout(() => (socket.destroy(), reject(new Error(`connection still open after ${CLOSED_WITHIN_MS} ms`))), CLOSED_WITHIN_MS).unref();
    });
    expect(answer.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer.closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
  });

  it("announces HTTP/2 settings that bound what one connection can make the server hold", async () => {
    const session = await connect(kw);
    try {
      expect(session.remoteSettings).toMatchObject({ maxConcurrentStreams: 64, initialWindowSize: 65_535, maxHeaderListSize: 16_384 });
      // A header list over the bound is refused on its stream; the connection carries on.
      const refused = await new Promise<number | undefined>((resolve) => {
        const s = session.request({ ":path": "/healthz", "x-big": "a".repeat(20_000) });
        s.on("error", () => {});
        s.on("response", () => {});
        s.resume();
        s.on("close", () => resolve(s.rstCode));
      });
      expect(refused).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
      const ok = await new Promise<number>((resolve, reject) => {
        const s = session.request({ ":path": "/healthz" });
        s.on("response", (h) => resolve(Number(h[":status"])));
        s.on("error", reject);
        s.resume();
      });
      expect(ok).toBe(200);
    } finally {
      session.destroy();
    }
  });
});
