// Keyward as `npm start` runs it: a real process that prints where it listens
// and the bootstrap key once, keeps its data across restarts, and drains on SIGTERM.
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { CheckService } from "../../gen/keyward/v1/check_pb.js";
import { connectJson } from "../support/clients.js";

interface Started {
  child: ChildProcess;
  url: string;
  lines: string[];
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

/** Starts `tsx src/main.ts` on a free port and waits for its "listening" line. */
async function startProcess(dataDir: string): Promise<Started> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      ...process.env,
      KEYWARD_PORT: "0",
      KEYWARD_DATA_DIR: dataDir,
      DATABASE_URL: "",
      KEYWARD_BOOTSTRAP_KEY_FILE: "",
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const lines: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      lines.push(line);
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`keyward exited with ${code} before listening:\n${lines.join("\n")}`)));
  });
  return { child, url, lines, exited };
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

const bootstrapKeyIn = (lines: string[]) => lines.map((l) => /bootstrap admin key.*: (kw_\S+)$/.exec(l)?.[1]).find(Boolean);

describe("the keyward process", () => {
  it("prints its URL and the bootstrap key once, keeps data across restarts, and drains on SIGTERM", async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), "keyward-proc-")), "data");
    const first = await startProcess(dataDir);
    const key = bootstrapKeyIn(first.lines);
    expect(key).toMatch(/^kw_/);
    expect(first.lines.filter((l) => l.includes("kw_"))).toHaveLength(1);
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);

    // Requests in flight when SIGTERM arrives still get their answers. Twenty
    // keep-alive connections are opened first (a connection the server has
    // not accepted when its listener closes is refused, as it should be);
    // then, at OWASP's argon2 cost, 20 checks keep this 2-core server busy
    // for about a second, well past the signal.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
    await Promise.all(Array.from({ length: 20 }, () => request(agent, first.url, "/healthz")));
    const inFlight = Array.from({ length: 20 }, () =>
      request(agent, first.url, "/keyward.v1.CheckService/CheckKey", { key }, { authorization: `Bearer ${key}` }),
    );
    await new Promise((r) => setTimeout(r, 100));
    first.child.kill("SIGTERM");
    const answers = await Promise.all(inFlight);
    agent.destroy();
    for (const answer of answers) expect(answer).toMatchObject({ status: 200, body: { valid: true, code: "CHECK_CODE_VALID" } });
    expect(await first.exited).toBe(0);

    const second = await startProcess(dataDir);
    expect(bootstrapKeyIn(second.lines)).toBeUndefined();
    const check = await connectJson(second.url, CheckService.method.checkKey, { key }, { authorization: `Bearer ${key}` });
    expect(check.body).toMatchObject({ valid: true });
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  });
});
