// Hostile clients: slow or silent connections cannot hold the port, and random
// bytes, JSON, paths and methods never get a 5xx, a crash or a secret back.
import net from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";

/** Resolves with how long the server took to close a connection that sent `bytes` and then nothing. */
function closedAfter(port: number, bytes: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect(port, "127.0.0.1", () => socket.write(bytes));
    socket.on("data", () => {});
    socket.on("error", () => {});
    socket.on("close", () => resolve(performance.now() - started));
    setTimeout(() => reject(new Error("connection still open after 10 s")), 10_000).unref();
  });
}

describe("hostile clients", () => {
  let kw: RunningKeyward;
  let auth: Record<string, string>;
  beforeAll(async () => {
    kw = await startKeyward({ kind: "pglite" }, { config: { connections: { headersTimeoutMs: 500, requestTimeoutMs: 30_000, maxConnections: 1_000, maxConcurrentStreams: 64 } } });
    auth = { authorization: `Bearer ${kw.adminKey}` };
  });
  afterAll(async () => {
    await kw?.close();
  });

  it("drops a connection that sends nothing, and one whose headers never end, while serving others", async () => {
    const silent = closedAfter(kw.port, "");
    const slow = closedAfter(kw.port, "GET /healthz HTTP/1.1\r\nHost: keyward\r\nX-Slow: 1\r\n");
    expect((await fetch(`${kw.url}/healthz`)).status).toBe(200);
    expect(await silent).toBeLessThan(5_000);
    expect(await slow).toBeLessThan(5_000);
  });

  it("answers random bytes on the raw port without crashing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 512 }), async (bytes) => {
        await new Promise<void>((resolve) => {
          const socket = net.connect(kw.port, "127.0.0.1", () => socket.end(Buffer.from(bytes)));
          socket.on("data", () => {});
          socket.on("error", () => resolve());
          socket.on("close", () => resolve());
          setTimeout(() => (socket.destroy(), resolve()), 2_000).unref();
        });
      }),
      { numRuns: 60 },
    );
    expect((await fetch(`${kw.url}/healthz`)).status).toBe(200);
  });

  const endpoints = [
    "/keyward.v1.CheckService/CheckKey",
    "/keyward.v1.ApiKeyService/AdminCreateApiKey",
    "/keyward.v1.PolicyService/AdminUpdateApiKeyPolicy",
    "/api/v1/api_keys",
    "/api/v1/api_keys:check",
    "/api/v1/api_keys/policies/x",
    "/api/v1/services/x/permissions",
  ];

  it("answers random JSON bodies on Connect and REST with a 4xx, never a 5xx or a secret", async () => {
    const secret = kw.adminKey.split("_")[2]!;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...endpoints), fc.constantFrom("POST", "PUT", "PATCH"), fc.jsonValue({ maxDepth: 4 }), async (path, method, body) => {
        const res = await fetch(`${kw.url}${path}`, { method, headers: { "content-type": "application/json", ...auth }, body: JSON.stringify(body) });
        const text = await res.text();
        expect(res.status, `${method} ${path} ${JSON.stringify(body)} → ${text}`).toBeLessThan(500);
        expect(text).not.toContain(secret);
      }),
      { numRuns: 150 },
    );
  });

  it("answers random paths and methods with a 4xx, never a 5xx", async () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9._~:%-]{0,12}$/);
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { minLength: 0, maxLength: 5 }),
        fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"),
        fc.boolean(),
        async (segments, method, underApi) => {
          const path = (underApi ? "/api/v1/" : "/") + segments.join("/");
          const res = await fetch(`${kw.url}${path}`, { method, headers: auth });
          await res.arrayBuffer();
          expect(res.status, `${method} ${path}`).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("refuses deeply nested JSON with 400", async () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    for (const path of ["/api/v1/api_keys", "/keyward.v1.ApiKeyService/AdminCreateApiKey"]) {
      const res = await fetch(`${kw.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...auth }, body: deep });
      expect(res.status, path).toBe(400);
    }
    expect((await fetch(`${kw.url}/healthz`)).status).toBe(200);
  });
});
