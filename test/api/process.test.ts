// Keyward as `npm start` runs it: a real process that prints where it listens
// and the bootstrap key once, keeps its data across restarts, and drains on SIGTERM.
import http from "node:http";
import net from "node:net";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CheckService } from "../../gen/keyward/v1/check_pb.js";
import { connectJson } from "../../harness/clients.js";
import { killAll, listening, spawnKeyward, startKeywardProcess } from "../../harness/process.js";
import { freePort } from "../../harness/proxies.js";

afterEach(killAll);

/** Starts the build (`node dist/keyward.mjs`, as `npm start` runs it) on a free port with its data in `dataDir` and waits for its "listening" line. */
async function startProcess(dataDir: string, env: Record<string, string> = {}) {
  const started = await startKeywardProcess({ KEYWARD_DATA_DIR: dataDir, ...env });
  // For requests before the drain (closed by the process's exit).
  return { ...started, agent: new http.Agent() };
}

/** One HTTP/1.1 request through `agent`; resolves with the status and parsed body. */
function request(agent: http.Agent, url: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const req = http.request(`${url}${path}`, { agent, method: body === undefined ? "GET" : "POST", headers: { "content-type": "application/json", ...headers } }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Resolves once a new connection to `port` is refused: the process has closed its listener. */
async function listenerClosed(port: number): Promise<void> {
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(false);
      });
      socket.once("error", () => resolve(true));
    });
    if (refused) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

const auth = (key: string) => ({ authorization: `Bearer ${key}` });

/** How many checks are in flight at SIGTERM. */
const IN_FLIGHT = 6;
/**
 * One argon2 verification at a time, each ~4× OWASP's cost (~0.2 s here): the
 * checks queue behind each other for about a second, so the test's own
 * reaction to the first answer (on a loaded CI machine, a few hundred ms) is
 * still well inside the window.
 */
const ONE_SLOW_ARGON2_AT_A_TIME = { KEYWARD_ARGON2_MAX_IN_FLIGHT: "1", KEYWARD_ARGON2_ITERATIONS: "8" };

const bootstrapKeyIn = (lines: string[]) => lines.map((l) => /bootstrap admin key.*: (kw_\S+)$/.exec(l)?.[1]).find(Boolean);

describe("the keyward process", () => {
  it("prints its URL and the bootstrap key once, keeps data across restarts, and drains on SIGTERM", async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), "keyward-proc-")), "data");
    const first = await startProcess(dataDir, ONE_SLOW_ARGON2_AT_A_TIME);
    const key = bootstrapKeyIn(first.lines);
    expect(key).toMatch(/^kw_/);
    expect(first.lines.filter((l) => l.includes("kw_"))).toHaveLength(1);
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);

    // Requests in flight when SIGTERM arrives still get their answers. Each
    // check presents a different cold key, so each costs its own argon2
    // verification (checks of one key would share a single one), and the
    // process runs one at a time: the checks queue up behind each other.
    // SIGTERM is sent when the first answer arrives; once the process has
    // acted on it (its listener refuses new connections), checks must still
    // be unanswered, and then be answered, complete.
    const { policies } = (await request(first.agent, first.url, "/keyward.v1.PolicyService/AdminGetApiKeyPolicies", {}, auth(key!))).body as {
      policies: Array<{ id: string }>;
    };
    const expireTime = new Date(Date.now() + 86_400_000).toISOString();
    const cold: string[] = [];
    for (let i = 0; i < IN_FLIGHT; i++) {
      const created = await request(first.agent, first.url, "/keyward.v1.ApiKeyService/AdminCreateApiKey", { name: `drain-${i}`, policyId: policies[0]!.id, expireTime }, auth(key!));
      expect(created.status).toBe(200);
      cold.push(created.body.credentials as string);
    }
    // One keep-alive connection per check, opened first: a connection the server has
    // not accepted when its listener closes is refused, as it should be.
    const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    await Promise.all(cold.map(() => request(agent, first.url, "/healthz")));
    let answered = 0;
    let signalled: () => void;
    const signal = new Promise<void>((resolve) => (signalled = resolve));
    const inFlight = cold.map((credentials) =>
      request(agent, first.url, "/keyward.v1.CheckService/CheckKey", { key: credentials }, auth(key!)).then((answer) => {
        if (answered++ === 0) {
          first.child.kill("SIGTERM");
          signalled();
        }
        return answer;
      }),
    );
    await signal;
    await listenerClosed(Number(new URL(first.url).port));
    const unansweredWhenDraining = IN_FLIGHT - answered;
    const answers = await Promise.all(inFlight);
    agent.destroy();
    // Not drained by luck: checks were still being worked on after the process acted on SIGTERM.
    expect(unansweredWhenDraining).toBeGreaterThanOrEqual(1);
    for (const answer of answers) expect(answer).toMatchObject({ status: 200, body: { valid: true, code: "CHECK_CODE_VALID" } });
    expect(await first.exited).toBe(0);

    const second = await startProcess(dataDir, { LOG_LEVEL: "info" });
    expect(bootstrapKeyIn(second.lines)).toBeUndefined();
    const check = await connectJson(second.url, CheckService.method.checkKey, { key }, { authorization: `Bearer ${key}` });
    expect(check.body).toMatchObject({ valid: true });
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    await new Promise((r) => setImmediate(r)); // the last lines through readline
    // The start and stop lines say what Keyward was connected to and how it stopped.
    expect(second.lines).toContain(`Keyward listening on ${second.url} (store: embedded PGlite in ${dataDir})`);
    const logged = second.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged.find((l) => l.msg === "keyward listening (gRPC, gRPC-Web and Connect on one port)")).toMatchObject({
      url: second.url,
      database: `embedded PGlite in ${dataDir}`,
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      node: process.version,
      startupMs: expect.any(Number),
    });
    expect(logged.find((l) => l.msg === "draining")).toMatchObject({ signal: "SIGTERM" });
    expect(logged.find((l) => l.msg === "keyward stopped")).toMatchObject({ signal: "SIGTERM", drainMs: expect.any(Number) });
  }, 90_000); // two process starts and a dozen slow argon2 runs

  it("finishes its start and drains on a SIGTERM that comes while it starts, leaving a store that opens again", async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), "keyward-proc-")), "data");
    const port = await freePort();
    const starting = spawnKeyward({ KEYWARD_DATA_DIR: dataDir, KEYWARD_PORT: String(port), LOG_LEVEL: "info" });
    // The port answers 503 while the new store is created and migrated.
    for (;;) {
      const status = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0);
      if (status === 503) break;
      expect(status).toBe(0);
      await new Promise((r) => setTimeout(r, 5));
    }
    starting.child.kill("SIGTERM");
    expect(await starting.exited).toBe(0);
    expect(starting.output()).toMatch(/"msg":"draining"/);

    const again = spawnKeyward({ KEYWARD_DATA_DIR: dataDir });
    expect(await listening(again)).toMatch(/^http:/);
    // Its first start issued the bootstrap key; this one finds the store it left.
    expect(again.output()).not.toMatch(/bootstrap admin key/);
  }, 60_000);
});
