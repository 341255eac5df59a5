// CheckKey over gRPC is served on the HTTP/2 stream API (handlers/check-grpc.ts),
// not through Connect. These tests hold it to Connect's answers, byte for byte,
// for every verdict and every error a client can provoke, and to what a stock
// grpc-js client relies on.
import http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { CheckCode, CheckKeyRequestSchema, CheckKeyResponseSchema, CheckService } from "../../gen/keyward/v1/check_pb.js";
import { ConstraintType } from "../../gen/keyward/v1/api_keys_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { DAY, expiresIn, grpcClients, keyWithPermissions, uniqueName, type Clients } from "../support/fixtures.js";
import { LogCapture, startKeyward, type RunningKeyward } from "../support/keyward.js";
import { metricValue } from "../support/metrics.js";
import { TEST_STORES } from "../support/stores.js";
import { newCredentials } from "../../src/domain/key-format.js";

const PATH = "/keyward.v1.CheckService/CheckKey";

interface RawAnswer {
  headers: Record<string, unknown>;
  body: string;
  trailers: Record<string, unknown>;
}

/** A gRPC message in its envelope; `flags` 1 marks it compressed. */
function envelope(message: Uint8Array, flags = 0): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame[0] = flags;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

const checkRequest = (init: Parameters<typeof create<typeof CheckKeyRequestSchema>>[1]) =>
  toBinary(CheckKeyRequestSchema, create(CheckKeyRequestSchema, init));

/** One raw gRPC call: what the server sent, minus the date. `end` false leaves the request body open. */
function rawCall(session: http2.ClientHttp2Session, headers: Record<string, string>, body: Buffer, end = true): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": PATH, "content-type": "application/grpc", te: "trailers", ...headers });
    const answer: RawAnswer = { headers: {}, body: "", trailers: {} };
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      const { date: _date, ...rest } = h;
      answer.headers = { ...rest };
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    const done = () => {
      answer.body = Buffer.concat(chunks).toString("hex");
      resolve(answer);
    };
    // The trailers end the answer, whether or not the server read all of the request.
    stream.on("trailers", (t) => {
      answer.trailers = { ...t };
      done();
      stream.close();
    });
    stream.on("error", reject);
    stream.on("close", done);
    if (end) stream.end(body);
    else stream.write(body);
  });
}

describe.each(TEST_STORES)("CheckKey's gRPC fast path ($name)", (store) => {
  let kw: RunningKeyward;
  let c: Clients;
  let session: http2.ClientHttp2Session;
  const logs = new LogCapture();
  // A caller holding keyward.keys.check, and keys in every state a verdict can report.
  let caller: { id: string; credentials: string };
  let keys: Record<string, string>;

  beforeAll(async () => {
    kw = await startKeyward(await store.create(), { logger: logs.logger("info") });
    c = grpcClients(kw.port);
    session = http2.connect(kw.url);
    await c.permissions.call(
      PermissionService.method.registerPermissions,
      { service: "billing", permissions: [{ name: "billing.invoices.read" }, { name: "billing.invoices.write" }] },
      kw.adminKey,
    );
    caller = await keyWithPermissions(kw, c, ["keyward.keys.check"]);
    const plain = await keyWithPermissions(kw, c, ["billing.invoices.read"]);
    const retired = await keyWithPermissions(kw, c, ["billing.invoices.read"]);
    await c.keys.call(ApiKeyService.method.adminRetireApiKey, { id: retired.id }, kw.adminKey);
    const scoped = await c.keys.call(
      ApiKeyService.method.adminCreateApiKey,
      {
        name: uniqueName("scoped"),
        policyId: plain.policyId,
        expireTime: expiresIn(kw, DAY),
        allowedSubnets: ["127.0.0.0/8"],
        constraints: [{ type: ConstraintType.PREFIX, value: "/invoices" }],
      },
      kw.adminKey,
    );
    const shortLived = await c.keys.call(
      ApiKeyService.method.adminCreateApiKey,
      { name: uniqueName("short"), policyId: plain.policyId, expireTime: expiresIn(kw, 60_000) },
      kw.adminKey,
    );
    // Usage limits: a key over its rate limit, one out of credits, and one with credits read at cost 0 (so
    // that both paths, called one after the other, see the same state).
    const limitedInit = (init: object) => ({ name: uniqueName("limits"), policyId: plain.policyId, expireTime: expiresIn(kw, DAY), ...init });
    const rateLimited = await c.keys.call(
      ApiKeyService.method.adminCreateApiKey,
      limitedInit({ rateLimits: [{ limit: 1n, period: { seconds: 2_678_400n } }] }),
      kw.adminKey,
    );
    const spent = await c.keys.call(ApiKeyService.method.adminCreateApiKey, limitedInit({ credits: { remaining: 0n } }), kw.adminKey);
    const credited = await c.keys.call(ApiKeyService.method.adminCreateApiKey, limitedInit({ credits: { remaining: 1000n } }), kw.adminKey);
    // Its one check in the window, spent: every check after it is over the limit.
    await c.check.call(CheckService.method.checkKey, { key: rateLimited.credentials }, caller.credentials);
    keys = {
      plain: plain.credentials,
      retired: retired.credentials,
      scoped: scoped.credentials,
      shortLived: shortLived.credentials,
      rateLimited: rateLimited.credentials,
      spent: spent.credentials,
      credited: credited.credentials,
    };
  });
  afterAll(async () => {
    // Destroyed, not closed: the Connect path's answer to an oversized body leaves
    // that stream open until the client ends it, which a graceful close would wait for.
    session?.destroy();
    c?.close();
    await kw?.close();
  });

  /** The same call answered by the fast path, then by Connect (the stream handler switched off for it). */
  async function bothPaths(headers: Record<string, string>, body: Buffer, end = true): Promise<[RawAnswer, RawAnswer]> {
    const server = kw.keyward.server;
    const fastPath = server.streamHandler;
    expect(fastPath).toBeDefined();
    const fast = await rawCall(session, headers, body, end);
    server.streamHandler = undefined;
    try {
      return [fast, await rawCall(session, headers, body, end)];
    } finally {
      server.streamHandler = fastPath;
    }
  }

  const auth = () => ({ authorization: `Bearer ${caller.credentials}` });
  // Well-formed, with a valid checksum, for no key in the store.
  const forged = () => newCredentials("kw").credentials;

  it("gives every verdict exactly as Connect does, cold and warm", async () => {
    const cases: Array<[string, Parameters<typeof checkRequest>[0]]> = [
      ["VALID", { key: keys.plain!, permissions: ["billing.invoices.read"] }],
      ["VALID, scoped", { key: keys.scoped!, permissions: ["billing.invoices.read"], method: "GET", path: "/invoices/7", clientIp: "127.0.0.9" }],
      ["MALFORMED", { key: "not-a-key" }],
      ["NOT_FOUND", { key: forged() }],
      ["RETIRED", { key: keys.retired! }],
      ["SUBNET_DENIED", { key: keys.scoped!, method: "GET", path: "/invoices", clientIp: "10.0.0.1" }],
      ["CONSTRAINT_DENIED", { key: keys.scoped!, method: "GET", path: "/payroll", clientIp: "127.0.0.1" }],
      ["PERMISSION_DENIED", { key: keys.plain!, permissions: ["billing.invoices.write"] }],
      ["RATE_LIMITED", { key: keys.rateLimited!, permissions: ["billing.invoices.read"] }],
      ["USAGE_EXCEEDED", { key: keys.spent!, permissions: ["billing.invoices.read"] }],
      ["VALID, credits", { key: keys.credited!, permissions: ["billing.invoices.read"], cost: 0 }],
    ];
    const seen = new Set<number>();
    for (const [name, init] of cases) {
      for (const round of ["cold", "warm"]) {
        const [fast, connect] = await bothPaths(auth(), envelope(checkRequest(init)));
        expect(fast, `${name}, ${round}`).toEqual(connect);
        expect(fast.trailers["grpc-status"], name).toBe("0");
        seen.add(fromBinary(CheckKeyResponseSchema, Buffer.from(fast.body, "hex").subarray(5)).code);
      }
    }
    kw.clock.advance(120_000);
    const [fast, connect] = await bothPaths(auth(), envelope(checkRequest({ key: keys.shortLived! })));
    expect(fast).toEqual(connect);
    seen.add(fromBinary(CheckKeyResponseSchema, Buffer.from(fast.body, "hex").subarray(5)).code);
    // Every verdict the enum knows was produced, so none went untested.
    expect([...seen].sort()).toEqual(Object.values(CheckCode).filter((v): v is number => typeof v === "number" && v !== 0).sort());
  });

  it("refuses bad calls with Connect's codes, messages and details", async () => {
    const good = envelope(checkRequest({ key: keys.plain! }));
    const cases: Array<[string, Record<string, string>, Buffer]> = [
      ["no caller key", {}, good],
      ["caller key without the Bearer prefix", { authorization: keys.plain! }, good],
      ["unknown caller key", { authorization: `Bearer ${forged()}` }, good],
      ["caller without keyward.keys.check", { authorization: `Bearer ${keys.plain}` }, good],
      ["retired caller", { authorization: `Bearer ${keys.retired}` }, good],
      ["malformed permission name", auth(), envelope(checkRequest({ key: keys.plain!, permissions: ["NOPE"] }))],
      ["field rule broken (key over 256 characters)", auth(), envelope(checkRequest({ key: "k".repeat(300) }))],
      ["field rule broken (cost over 1000000)", auth(), envelope(checkRequest({ key: keys.plain!, cost: 1_000_001 }))],
      ["empty body", auth(), Buffer.alloc(0)],
      ["two messages", auth(), Buffer.concat([good, good])],
      ["truncated envelope", auth(), good.subarray(0, 8)],
      ["not protobuf", auth(), envelope(Buffer.from([0xff, 0xff, 0xff]))],
      ["compressed flag without grpc-encoding", auth(), envelope(checkRequest({ key: keys.plain! }), 1)],
      ["bad grpc-timeout", { ...auth(), "grpc-timeout": "soon" }, good],
      ["declared size over the limit", auth(), Buffer.concat([Buffer.from([0, 0, 0x20, 0, 0]), Buffer.alloc(64)])],
    ];
    for (const [name, headers, body] of cases) {
      const [fast, connect] = await bothPaths(headers, body);
      expect(fast, name).toEqual(connect);
      expect(fast.trailers["grpc-status"], name).not.toBe("0");
    }
  });

  it("takes the caller's key from x-api-key and api-key too", async () => {
    for (const header of ["x-api-key", "api-key"]) {
      const [fast, connect] = await bothPaths({ [header]: caller.credentials }, envelope(checkRequest({ key: keys.plain! })));
      expect(fast, header).toEqual(connect);
      expect(fast.trailers["grpc-status"], header).toBe("0");
    }
  });

  it("answers a body larger than the limit at once, without holding it", async () => {
    const [fast, connect] = await bothPaths(auth(), envelope(Buffer.alloc(2 * 1024 * 1024)));
    expect(fast).toEqual(connect);
    expect(fast.trailers["grpc-status"]).toBe(String(grpc.status.RESOURCE_EXHAUSTED));
  });

  it("serves a stock grpc-js client: verdicts, status details, deadlines, many calls on one connection", async () => {
    const answer = await c.check.call(CheckService.method.checkKey, { key: keys.plain!, permissions: ["billing.invoices.read"] }, caller.credentials);
    expect(answer.code).toBe(CheckCode.VALID);
    // INVALID_ARGUMENT carries the violations as a google.rpc.Status detail, as Connect sends them.
    const refused = await c.check.call(CheckService.method.checkKey, { key: "k".repeat(300) }, caller.credentials).catch((e: grpc.ServiceError) => e);
    expect((refused as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((refused as grpc.ServiceError).details).toContain("key");
    expect((refused as grpc.ServiceError).metadata.get("grpc-status-details-bin")).toHaveLength(1);
    // A deadline the server cannot meet: the body never ends.
    const [timedOut] = await Promise.all([rawCall(session, { ...auth(), "grpc-timeout": "200m" }, envelope(checkRequest({ key: keys.plain! })).subarray(0, 6), false)]);
    expect(timedOut.trailers).toMatchObject({ "grpc-status": String(grpc.status.DEADLINE_EXCEEDED), "grpc-message": "the operation timed out" });
    // Hundreds of concurrent calls over one connection (flow control, stream limits).
    const answers = await Promise.all(
      Array.from({ length: 300 }, () => c.check.call(CheckService.method.checkKey, { key: keys.plain! }, caller.credentials)),
    );
    expect(answers.every((a) => a.code === CheckCode.VALID)).toBe(true);
  });

  it("refuses the caller at once after its own key is retired", async () => {
    const service = await keyWithPermissions(kw, c, ["keyward.keys.check"]);
    const call = () => c.check.call(CheckService.method.checkKey, { key: keys.plain! }, service.credentials);
    expect((await call()).code).toBe(CheckCode.VALID);
    await c.keys.call(ApiKeyService.method.adminRetireApiKey, { id: service.id }, kw.adminKey);
    await expect(call()).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
  });

  it("counts verdicts, measures and logs each call, and never logs a key", async () => {
    await c.check.call(CheckService.method.checkKey, { key: keys.plain! }, caller.credentials);
    const before = await metricValue(kw.url, "keyward_checks_total", { code: "VALID" });
    const durations = await metricValue(kw.url, "keyward_rpc_duration_seconds_count", { procedure: "keyward.v1.CheckService/CheckKey", code: "OK" });
    await c.check.call(CheckService.method.checkKey, { key: keys.plain! }, caller.credentials);
    expect(await metricValue(kw.url, "keyward_checks_total", { code: "VALID" })).toBe(before + 1);
    expect(
      await metricValue(kw.url, "keyward_rpc_duration_seconds_count", { procedure: "keyward.v1.CheckService/CheckKey", code: "OK" }),
    ).toBe(durations + 1);
    // Answered checks are summarised once a second (calls per caller key id), refusals logged one by one.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const summaries = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "rpc summary");
    expect(summaries.at(-1)).toMatchObject({ procedure: "keyward.v1.CheckService/CheckKey", code: "ok", callers: { [caller.id]: expect.any(Number) } });
    await c.check.call(CheckService.method.checkKey, { key: "k".repeat(300) }, caller.credentials).catch(() => undefined);
    expect(logs.lines.at(-1)).toMatch(/"procedure":"keyward.v1.CheckService\/CheckKey".*"code":"InvalidArgument"/);
    for (const secret of [caller.credentials, ...Object.values(keys)]) expect(logs.text).not.toContain(secret.slice(20));
  });

  it("lets calls in flight finish when Keyward shuts down", async () => {
    const own = await startKeyward(await store.create());
    const clients = grpcClients(own.port);
    const ownSession = http2.connect(own.url);
    try {
      await new Promise((resolve) => ownSession.once("connect", resolve));
      // Distinct keys, each never checked: each call needs the store and argon2, so all are still running at close().
      const created = await Promise.all(Array.from({ length: 4 }, () => keyWithPermissions(own, clients, ["keyward.keys.check"])));
      const calls = created.map((k) => rawCall(ownSession, { authorization: `Bearer ${k.credentials}` }, envelope(checkRequest({ key: k.credentials }))));
      while (own.keyward.server.stats().requests < created.length) await new Promise((resolve) => setImmediate(resolve));
      const closed = own.close();
      const answers = await Promise.all(calls);
      await closed;
      for (const answer of answers) {
        expect(answer.trailers["grpc-status"]).toBe("0");
        expect(fromBinary(CheckKeyResponseSchema, Buffer.from(answer.body, "hex").subarray(5)).code).toBe(CheckCode.VALID);
      }
    } finally {
      ownSession.close();
      clients.close();
    }
  });
});
