// Issue #14 finding 12: an unknown key id and a real id with a wrong secret
// differ in time (argon2 runs for the second only) and in nothing else that a
// caller without the key can observe. Ids are public, so the timing is
// information, not a hole (SECURITY.md §1); this suite compares every other
// answer byte for byte: CheckKey's verdict, gRPC status, message, headers and
// trailers, Connect and REST status, headers and body, and the metrics.
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { CheckKeyRequestSchema, CheckKeyResponseSchema, CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { formatKey } from "../../src/domain/key-format.js";
import { newId, randomBase62 } from "../../src/domain/random.js";
import { DAY, expiresIn, grpcClients, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

/** Headers that differ between any two answers (the clock), or by timing alone. */
const VARYING_HEADERS = new Set(["date"]);

const withoutVarying = (entries: Iterable<[string, unknown]>): Record<string, unknown> =>
  Object.fromEntries([...entries].filter(([name]) => !VARYING_HEADERS.has(name.toLowerCase())).sort(([a], [b]) => a.localeCompare(b)));

/** Everything a grpc-js caller sees of a unary call: status, message, headers, trailers, answer bytes. */
function grpcObservable(port: number, path: string, request: Uint8Array, key: string) {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${key}`);
  return new Promise<Record<string, unknown>>((resolve) => {
    let headers: Record<string, unknown> = {};
    let answer: string | undefined;
    const call = client.makeUnaryRequest(
      path,
      (m: Uint8Array) => Buffer.from(m),
      (b: Buffer) => b,
      request,
      metadata,
      (_error, message?: Buffer) => {
        answer = message?.toString("hex");
      },
    );
    call.on("metadata", (m: grpc.Metadata) => (headers = withoutVarying(Object.entries(m.getMap()))));
    call.on("status", (s: grpc.StatusObject) => {
      // The callback runs before "status"; close only once both are in.
      setImmediate(() => {
        client.close();
        resolve({ code: s.code, details: s.details, headers, trailers: withoutVarying(Object.entries(s.metadata.getMap())), answer });
      });
    });
  });
}

/** Everything an HTTP caller sees: status, headers, body. */
async function httpObservable(url: string, init: RequestInit) {
  const res = await fetch(url, init);
  return { status: res.status, headers: withoutVarying(res.headers.entries()), body: await res.text() };
}

/** /metrics as series → value, without the series that time or argon2 alone move (SECURITY.md §1). */
async function metrics(baseUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const series = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?)\s+(\S+)$/.exec(line);
    if (!m) continue;
    const name = m[1]!;
    // Durations: their buckets and sums are the timing itself; their counts stay compared.
    if (/_seconds_(bucket|sum)/.test(name)) continue;
    // The argon2 counters move for a real id only (SECURITY.md §1); process and runtime gauges move on their own.
    if (/^keyward_(argon2|process|nodejs)_/.test(name)) continue;
    series.set(name, Number(m[2]));
  }
  return series;
}

const delta = (before: Map<string, number>, after: Map<string, number>) =>
  Object.fromEntries([...after].map(([name, value]) => [name, value - (before.get(name) ?? 0)]).filter(([, d]) => d !== 0));

describe.each(TEST_STORES)("an unknown key id and a wrong secret for a real id, on $name", (store) => {
  let kw: RunningKeyward;
  let c: Clients;
  let realId: string;

  beforeAll(async () => {
    kw = await startKeyward(await store.create());
    c = grpcClients(kw.port);
    const { policies } = await c.policies.call(PolicyService.method.adminGetApiKeyPolicies, {}, kw.adminKey);
    realId = (await c.keys.call(ApiKeyService.method.adminCreateApiKey, { name: "real", policyId: policies[0]!.id, expireTime: expiresIn(kw, DAY) }, kw.adminKey)).apiKey!.id;
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
  });

  // A fresh secret every time, so each probe is a cold miss and not a cached verdict.
  const unknownId = () => formatKey("kw", newId(), randomBase62(33));
  const wrongSecret = () => formatKey("kw", realId, randomBase62(33));

  /** Every observable answer to `probe` for one presented key. */
  type Probe = (key: string) => Promise<unknown>;
  /** What each probe answers, so that comparing two answers is not comparing two 404s. */
  const NOT_FOUND_VERDICT = { code: grpc.status.OK, answer: "1003" }; // field 2 (code) = 3 (NOT_FOUND), no id
  const GRPC_UNAUTHENTICATED = { code: grpc.status.UNAUTHENTICATED, details: "invalid API key" };
  const HTTP_UNAUTHENTICATED = { status: 401, body: expect.stringContaining('"invalid API key"') };
  const probes: Array<[string, Probe, object]> = [
    [
      "CheckKey's verdict (grpc-js)",
      (key) => grpcObservable(kw.port, "/keyward.v1.CheckService/CheckKey", toBinary(CheckKeyRequestSchema, create(CheckKeyRequestSchema, { key })), kw.adminKey),
      NOT_FOUND_VERDICT,
    ],
    ["an admin RPC with the key as caller (grpc-js)", (key) => grpcObservable(kw.port, "/keyward.v1.ApiKeyService/AdminListApiKeys", new Uint8Array(), key), GRPC_UNAUTHENTICATED],
    [
      "an admin RPC with the key as caller (Connect JSON)",
      (key) =>
        httpObservable(`${kw.url}/keyward.v1.ApiKeyService/AdminListApiKeys`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body: "{}" }),
      HTTP_UNAUTHENTICATED,
    ],
    ["REST with the key as caller", (key) => httpObservable(`${kw.url}/api/v1/api_keys`, { headers: { authorization: `Bearer ${key}` } }), HTTP_UNAUTHENTICATED],
    ["REST with the key in x-api-key", (key) => httpObservable(`${kw.url}/api/v1/api_keys/policies`, { headers: { "x-api-key": key } }), HTTP_UNAUTHENTICATED],
  ];

  it.each(probes)("%s is identical", async (_what, probe, refusal) => {
    const unknown = await probe(unknownId());
    const wrong = await probe(wrongSecret());
    expect(wrong).toEqual(unknown);
    // Not vacuous: both are the refusal this path gives, and name no id.
    expect(unknown).toMatchObject(refusal);
    expect(JSON.stringify(wrong)).not.toContain(realId);
  });

  it("CheckKey answers NOT_FOUND with no id either way", async () => {
    const verdict = async (key: string) => c.check.call(CheckService.method.checkKey, { key }, kw.adminKey);
    const unknown = await verdict(unknownId());
    const wrong = await verdict(wrongSecret());
    expect(toBinary(CheckKeyResponseSchema, wrong)).toEqual(toBinary(CheckKeyResponseSchema, unknown));
    expect(wrong).toMatchObject({ valid: false, code: 3, apiKeyId: "" });
  });

  it("moves the same metrics, with the same labels (the argon2 counters aside)", async () => {
    const probe = (key: string) => httpObservable(`${kw.url}/api/v1/api_keys`, { headers: { authorization: `Bearer ${key}` } });
    const check = (key: string) => c.check.call(CheckService.method.checkKey, { key }, kw.adminKey);
    const s0 = await metrics(kw.url);
    await probe(unknownId());
    await check(unknownId());
    const s1 = await metrics(kw.url);
    await probe(wrongSecret());
    await check(wrongSecret());
    const s2 = await metrics(kw.url);
    const unknown = delta(s0, s1);
    expect(delta(s1, s2)).toEqual(unknown);
    expect(Object.keys(unknown).length).toBeGreaterThan(0);
    expect([...s2.keys()].join("\n")).not.toContain(realId);
  });
});
