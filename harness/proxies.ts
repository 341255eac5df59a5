// Debian's nginx and Caddy, run as plain processes on loopback with the
// README's snippets, in front of an upstream that echoes what reaches it.
// Used by test/api/proxies.test.ts and bench/proxy.ts.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const NGINX = "/usr/sbin/nginx";
export const CADDY = "/usr/bin/caddy";

/** A fenced block of the README, by its language tag (the first one). */
export function readmeSnippet(language: string): string {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const match = new RegExp("```" + language + "\\n([\\s\\S]*?)```").exec(readme);
  if (!match) throw new Error(`README.md has no \`\`\`${language} block`);
  return match[1]!;
}

/** A port free on loopback now (the proxy binds it a moment later). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Upstream {
  port: number;
  /** The requests that reached it: method, url and headers. */
  seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders }>;
  close(): Promise<void>;
}

/** The service behind the proxy: answers 200 with what it received. */
export async function startUpstream(): Promise<Upstream> {
  const seen: Upstream["seen"] = [];
  const server = http.createServer((req, res) => {
    const entry = { method: req.method ?? "", url: req.url ?? "", headers: req.headers };
    seen.push(entry);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(entry));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface RunningProxy {
  url: string;
  /** What the proxy wrote to its error log or stderr (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export interface ProxySetup {
  keywardPort: number;
  upstreamPort: number;
  proxyKey: string;
}

/** The README's snippet with this run's ports and key in place of its example ones. */
function configured(snippet: string, setup: ProxySetup, port: number): string {
  return snippet
    .replaceAll("127.0.0.1:8080", `127.0.0.1:${setup.keywardPort}`)
    .replaceAll("127.0.0.1:9000", `127.0.0.1:${setup.upstreamPort}`)
    .replace("listen 8000;", `listen 127.0.0.1:${port};`)
    .replace(":8000 {", `:${port} {\n\tbind 127.0.0.1`)
    .replaceAll("<proxy key>", setup.proxyKey);
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the proxy exited (${child.exitCode}): ${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the proxy did not listen on ${port}: ${output()}`);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, dir: string, port: number, readLog: () => string): Promise<RunningProxy> {
  let stderr = "";
  const child = spawn(command, args, { env, stdio: ["ignore", "ignore", "pipe"] });
  child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-20_000)));
  const output = () => `${stderr}\n${readLog()}`;
  const proxy: RunningProxy = {
    url: `http://127.0.0.1:${port}`,
    output,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return waitForPort(port, child, output).then(
    () => proxy,
    async (error: unknown) => {
      await proxy.stop();
      throw error;
    },
  );
}

/** nginx in the foreground, one process, everything it writes under a temp dir; `http` is the README's server block. */
export async function startNginx(setup: ProxySetup, snippet = readmeSnippet("nginx")): Promise<RunningProxy> {
  const dir = mkdtempSync(join(tmpdir(), "keyward-nginx-"));
  const port = await freePort();
  const temp = (name: string) => {
    mkdirSync(join(dir, name));
    return join(dir, name);
  };
  const conf = join(dir, "nginx.conf");
  writeFileSync(
    conf,
    [
      "daemon off;",
      "master_process off;",
      "worker_processes 1;",
      `pid ${join(dir, "nginx.pid")};`,
      `error_log ${join(dir, "error.log")} warn;`,
      "events { worker_connections 1024; }",
      "http {",
      "  access_log off;",
      `  client_body_temp_path ${temp("body")};`,
      `  proxy_temp_path ${temp("proxy")};`,
      `  fastcgi_temp_path ${temp("fastcgi")};`,
      `  uwsgi_temp_path ${temp("uwsgi")};`,
      `  scgi_temp_path ${temp("scgi")};`,
      configured(snippet, setup, port),
      "}",
    ].join("\n"),
  );
  const readLog = () => {
    try {
      return readFileSync(join(dir, "error.log"), "utf8").slice(-5_000);
    } catch {
      return "";
    }
  };
  return run(NGINX, ["-p", dir, "-c", conf, "-e", join(dir, "error.log")], process.env, dir, port, readLog);
}

/** Caddy with the README's site block, no admin endpoint and no automatic HTTPS, its state under a temp dir. */
export async function startCaddy(setup: ProxySetup, snippet = readmeSnippet("caddyfile")): Promise<RunningProxy> {
  const dir = mkdtempSync(join(tmpdir(), "keyward-caddy-"));
  const port = await freePort();
  const file = join(dir, "Caddyfile");
  writeFileSync(file, `{\n\tadmin off\n\tauto_https off\n}\n\n${configured(snippet, setup, port)}`);
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, "data"), XDG_CONFIG_HOME: join(dir, "config"), KEYWARD_PROXY_KEY: setup.proxyKey };
  return run(CADDY, ["run", "--config", file, "--adapter", "caddyfile"], env, dir, port, () => "");
}
