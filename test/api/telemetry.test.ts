// OpenTelemetry (issue #21): with OTEL_EXPORTER_OTLP_ENDPOINT set, a real
// Keyward process exports a server span per RPC, with store and argon2 spans
// under it, continues a caller's W3C trace, flushes on SIGTERM, and never puts
// a key or its secret in a span; unset, the SDK is not even loaded.
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { startTelemetry } from "../../src/telemetry.js";
import { connectJson } from "../../harness/clients.js";
import { uniqueName } from "../support/fixtures.js";
import { killAll, lineMatching, listening, spawnKeyward } from "../../harness/process.js";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: Record<string, unknown> }[];
  status?: { code?: number; message?: string };
}

/** A minimal OTLP/HTTP receiver: keeps every JSON body POSTed to /v1/traces. */
function otlpReceiver(): { server: Server; bodies: string[] } {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/v1/traces") bodies.push(Buffer.concat(chunks).toString("utf8"));
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  return { server, bodies };
}

const spansIn = (bodies: string[]): OtlpSpan[] =>
  bodies.flatMap((b) => (JSON.parse(b) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] }).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));

const attribute = (span: OtlpSpan, key: string): unknown => {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  return value && Object.values(value)[0];
};

const SPAN_KIND_SERVER = 2;
const STATUS_ERROR = 2;

describe("tracing with OTEL_EXPORTER_OTLP_ENDPOINT", () => {
  const receiver = otlpReceiver();
  let endpoint: string;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "keyward-otel-"));
    await new Promise<void>((resolve) => receiver.server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
  });
  afterEach(() => killAll());
  afterAll(async () => {
    await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it("exports RPC spans with store and argon2 children, continues the caller's trace, and holds no secret", async () => {
    const started = spawnKeyward({ KEYWARD_DATA_DIR: dataDir, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: "" });
    const url = await listening(started);
    const adminKey = /admin key \(shown once, store it now\): (\S+)/.exec(await lineMatching(started, /admin key \(shown once/))![1]!;
    const admin = { authorization: `Bearer ${adminKey}` };

    const policy = await connectJson(url, PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("traced"), permissions: ["keyward.keys.check"] }, admin);
    expect(policy.status).toBe(200);
    const policyId = (policy.body.policy as { id: string }).id;
    const created = await connectJson(
      url,
      ApiKeyService.method.adminCreateApiKey,
      { name: uniqueName("traced"), policyId, expireTime: new Date(Date.now() + 86_400_000).toISOString() },
      admin,
    );
    expect(created.status).toBe(200);
    const credentials = created.body.credentials as string;
    const secret = credentials.split("_").at(-1)!.slice(0, 33);
    // A refusal: the span says UNAUTHENTICATED, and the presented (wrong) key is nowhere.
    const refused = await connectJson(url, PolicyService.method.adminCreateApiKeyPolicy, { name: "x", permissions: [] }, { authorization: `Bearer ${credentials}x` });
    expect(refused.status).toBe(401);

    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const parentId = "00f067aa0ba902b7";
    const check = await connectJson(url, CheckService.method.checkKey, { key: credentials, permissions: ["keyward.keys.check"] }, {
      ...admin,
      traceparent: `00-${traceId}-${parentId}-01`,
    });
    expect(check.status).toBe(200);
    expect(check.body.code).toBe("CHECK_CODE_VALID");
    // REST continues a trace too.
    const restTraceId = "0af7651916cd43dd8448eb211c80319c";
    const listed = await fetch(`${url}/api/v1/api_keys/policies`, { headers: { ...admin, traceparent: `00-${restTraceId}-b7ad6b7169203331-01` } });
    expect(listed.status).toBe(200);

    started.child.kill("SIGTERM");
    expect(await started.exited).toBe(0);

    const bodies = receiver.bodies;
    const spans = spansIn(bodies);
    // OTEL_SERVICE_NAME empty: Keyward's default names the service.
    expect(bodies.join("")).toContain('"stringValue":"keyward"');

    const rpc = (name: string) => spans.filter((s) => s.name === name && s.kind === SPAN_KIND_SERVER);
    const [checkSpan] = rpc("keyward.v1.CheckService/CheckKey");
    expect(checkSpan, "a CheckKey span").toBeDefined();
    expect(checkSpan!.traceId).toBe(traceId);
    expect(checkSpan!.parentSpanId).toBe(parentId);
    expect(attribute(checkSpan!, "rpc.service")).toBe("keyward.v1.CheckService");
    expect(attribute(checkSpan!, "rpc.method")).toBe("CheckKey");
    expect(attribute(checkSpan!, "rpc.connect_rpc.error_code")).toBe("ok");
    expect(checkSpan!.status?.code ?? 0).not.toBe(STATUS_ERROR);

    const children = spans.filter((s) => s.parentSpanId === checkSpan!.spanId);
    const storeSpan = children.find((s) => attribute(s, "db.system") === "postgresql");
    expect(storeSpan, `a store span under CheckKey among ${children.map((s) => s.name).join(", ")}`).toBeDefined();
    expect(attribute(storeSpan!, "db.operation.name")).toMatch(/^[A-Z]+$/);
    expect(children.some((s) => s.name === "argon2 verify"), "an argon2 span under CheckKey").toBe(true);

    // Background queries (webhook polls, syncs) make no traces of their own.
    expect(spans.filter((s) => attribute(s, "db.system") === "postgresql" && !s.parentSpanId)).toEqual([]);

    expect(rpc("keyward.v1.PolicyService/AdminGetApiKeyPolicies").map((s) => s.traceId)).toEqual([restTraceId]);

    const creations = rpc("keyward.v1.ApiKeyService/AdminCreateApiKey");
    expect(creations).toHaveLength(1);
    expect(spans.some((s) => s.name === "argon2 hash" && s.parentSpanId === creations[0]!.spanId)).toBe(true);
    const policyCalls = rpc("keyward.v1.PolicyService/AdminCreateApiKeyPolicy");
    expect(policyCalls.map((s) => attribute(s, "rpc.connect_rpc.error_code")).sort()).toEqual(["ok", "unauthenticated"]);
    expect(policyCalls.find((s) => s.status?.code === STATUS_ERROR)).toBeDefined();

    // No key, secret or authorization value anywhere in what was exported.
    const exported = bodies.join("\n");
    for (const secretValue of [adminKey, credentials, secret, adminKey.split("_").at(-1)!.slice(0, 33)]) expect(exported).not.toContain(secretValue);
    expect(exported.toLowerCase()).not.toContain("bearer");
  }, 90_000);
});

describe("tracing without OTEL_EXPORTER_OTLP_ENDPOINT", () => {
  it("loads no SDK module and starts nothing; the same call with the variable set does load it", async () => {
    // The server's whole graph is imported, as main.ts imports it.
    await import("../../src/app.js");
    const cache = createRequire(import.meta.url).cache;
    const sdkLoaded = () => Object.keys(cache).some((path) => path.includes("@opentelemetry/sdk-trace"));
    expect(await startTelemetry("test", {})).toBeUndefined();
    expect(await startTelemetry("test", { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9", OTEL_SDK_DISABLED: "true" })).toBeUndefined();
    expect(sdkLoaded()).toBe(false);
    // The control: the check above can see the SDK when it is there.
    const telemetry = await startTelemetry("test", { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" });
    expect(telemetry).toBeDefined();
    expect(sdkLoaded()).toBe(true);
    await telemetry!.shutdown();
  });
});
