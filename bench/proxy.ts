// npm run bench:proxy: the requests per second Debian's nginx serves in front
// of one upstream with Keyward's forward auth (the README's snippet as
// written) and without it (the same proxying, no auth_request), measured in
// alternating windows by h2load over HTTP/1.1. Kong's benchmark puts its
// key-auth at 0.87× of its rate-limit-only setup; this is our figure.
//
// The upstream is nginx answering "ok" itself, so the ratio is the cost of
// the auth subrequest, not of a slow service. Keyward runs as `npm start`
// does (PGlite, access lines on), in its own process.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ApiKeyService } from "../gen/keyward/v1/api_keys_pb.js";
import { PermissionService } from "../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../gen/keyward/v1/policies_pb.js";
import { GrpcClient } from "../harness/clients.js";
import { freePort, readmeSnippet, startNginx } from "../harness/proxies.js";
import { startBenchKeyward } from "./keyward-process.js";
import { median } from "./stats.js";

const ROUNDS = Number(process.env.BENCH_PROXY_ROUNDS ?? 4);
const WINDOW_SECONDS = Number(process.env.BENCH_PROXY_WINDOW_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_PROXY_CONCURRENCY ?? 32);

async function startKeyward(dir: string) {
  const keyFile = join(dir, "admin.key");
  const keyward = await startBenchKeyward({ KEYWARD_DATA_DIR: join(dir, "data"), KEYWARD_BOOTSTRAP_KEY_FILE: keyFile });
  return { ...keyward, admin: readFileSync(keyFile, "utf8").trim() };
}

/** The proxy's key (keyward.keys.check) and a client's key holding billing.invoices.read. */
async function createKeys(port: number, admin: string): Promise<{ proxy: string; client: string }> {
  const permissions = new GrpcClient(PermissionService, port);
  const policies = new GrpcClient(PolicyService, port);
  const keys = new GrpcClient(ApiKeyService, port);
  try {
    await permissions.call(PermissionService.method.registerPermissions, { service: "billing", permissions: [{ name: "billing.invoices.read" }] }, admin);
    const key = async (name: string, permission: string) => {
      const { policy } = await policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name, permissions: [permission] }, admin);
      const expireTime = timestampFromDate(new Date(Date.now() + 86_400_000));
      return (await keys.call(ApiKeyService.method.adminCreateApiKey, { name, policyId: policy!.id, expireTime }, admin)).credentials;
    };
    return { proxy: await key("bench-proxy", "keyward.keys.check"), client: await key("bench-client", "billing.invoices.read") };
  } finally {
    [permissions, policies, keys].forEach((c) => c.close());
  }
}

/** One h2load window over HTTP/1.1: requests per second, and how many answers were not 2xx. */
async function window(url: string, key: string): Promise<{ rps: number; failed: number }> {
  const { stdout } = await promisify(execFile)("h2load", ["--h1", "-c", String(CONCURRENCY), "-D", String(WINDOW_SECONDS), "--warm-up-time", "1", "-H", `authorization: Bearer ${key}`, url], {
    maxBuffer: 1 << 20,
  });
  const rps = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(stdout);
  const status = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(stdout);
  if (!rps || !status) throw new Error(`unexpected h2load output:\n${stdout}`);
  return { rps: Number(rps[1]), failed: Number(status[3]) + Number(status[4]) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "keyward-bench-proxy-"));
  const keyward = await startKeyward(dir);
  const { proxy, client } = await createKeys(keyward.port, keyward.admin);
  const upstreamPort = await freePort();
  const plainPort = await freePort();
  // One nginx: the README's server block (forward auth), the same proxying without auth, and the upstream.
  const plain = readmeSnippet("nginx")
    .split("\n")
    .filter((line) => !/auth_request|\$keyward_|X-Keyward/.test(line))
    .join("\n")
    .replace(/\n    location = \/_keyward \{[\s\S]*?\n    \}\n/, "\n")
    .replace(/^[\s\S]*?(?=server \{)/, "")
    .replace("listen 8000;", `listen 127.0.0.1:${plainPort};`);
  const upstream = `server {\n    listen 127.0.0.1:${upstreamPort};\n    location / { return 200 "ok\\n"; }\n}\n`;
  const nginx = await startNginx({ keywardPort: keyward.port, upstreamPort, proxyKey: proxy }, `${readmeSnippet("nginx")}\n${plain}\n${upstream}`);
  try {
    const target = `${nginx.url}/invoices/7`;
    const plainTarget = `http://127.0.0.1:${plainPort}/invoices/7`;
    const withAuth: number[] = [];
    const without: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // ABBA: a drift in the machine's speed weighs on both alike.
      const order = round % 2 === 0 ? [true, false] : [false, true];
      for (const auth of order) {
        const result = await window(auth ? target : plainTarget, client);
        if (result.failed > 0) throw new Error(`${result.failed} requests failed ${auth ? "with" : "without"} forward auth:\n${nginx.output()}`);
        (auth ? withAuth : without).push(result.rps);
        process.stdout.write(`round ${round + 1}: ${auth ? "with" : "without"} forward auth ${Math.round(result.rps)} req/s\n`);
      }
    }
    const ratios = withAuth.map((rps, i) => rps / without[i]!);
    process.stdout.write(
      `\nnginx with Keyward forward auth / without, concurrency ${CONCURRENCY}, ${ROUNDS} pairs of ${WINDOW_SECONDS} s:\n` +
        `  ${Math.round(median(withAuth))} / ${Math.round(median(without))} req/s, ratio ${median(ratios).toFixed(3)}× (pairs ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}×)\n`,
    );
  } finally {
    await nginx.stop();
    await keyward.stop();
  }
}

await main();
