// The keys the proxy integration suites (forward auth, nginx, Caddy, Envoy's
// ext_authz) check: one per verdict, plus the proxy's own key.
import { ApiKeyService, ConstraintType } from "../../gen/keyward/v1/api_keys_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { newCredentials } from "../../src/domain/key-format.js";
import { DAY, expiresIn, grpcClients, uniqueName, type Clients } from "./fixtures.js";
import { startKeyward, type RunningKeyward } from "./keyward.js";
import { startCaddy, startNginx, startUpstream, type ProxySetup, type RunningProxy, type Upstream } from "../../harness/proxies.js";

export const READ = "billing.invoices.read";
export const WRITE = "billing.invoices.write";

export interface ProxyKeys {
  /** The proxy's own key: keyward.keys.check only. */
  proxy: string;
  /** A key that may not check keys: a proxy configured with it must fail closed. */
  notAChecker: string;
  /** billing.invoices.read, a service and a name that needs encoding in a header. */
  reader: { id: string; credentials: string; policyId: string };
  /** A policy without billing.invoices.read. */
  underPrivileged: string;
  /** Only from 10.0.0.0/8 (the tests run on loopback). */
  outOfSubnet: string;
  /** Only under /invoices. */
  constrained: string;
  retired: string;
  /** Well-formed, with the reader's id and checksum right, and another secret. */
  unknown: string;
  /** Expires an hour after creation: call `expire()` to move the clock past it. */
  expiring: string;
  expire(): void;
}

export async function createProxyKeys(kw: RunningKeyward, c: Clients): Promise<ProxyKeys> {
  const admin = kw.adminKey;
  await c.permissions.call(PermissionService.method.registerPermissions, { service: "billing", permissions: [{ name: READ }, { name: WRITE }] }, admin);
  const policy = async (permissions: string[]) =>
    (await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("proxy-policy"), permissions }, admin)).policy!.id;
  const checkerPolicy = await policy(["keyward.keys.check"]);
  const readPolicy = await policy([READ]);
  const writePolicy = await policy([WRITE]);
  const key = async (policyId: string, extra: Record<string, unknown> = {}, ttl = DAY) => {
    const created = await c.keys.call(
      ApiKeyService.method.adminCreateApiKey,
      { name: uniqueName("proxy-key"), policyId, expireTime: expiresIn(kw, ttl), ...extra },
      admin,
    );
    return { id: created.apiKey!.id, credentials: created.credentials, policyId };
  };
  const retired = await key(readPolicy);
  await c.keys.call(ApiKeyService.method.adminRetireApiKey, { id: retired.id }, admin);
  return {
    proxy: (await key(checkerPolicy)).credentials,
    notAChecker: (await key(readPolicy)).credentials,
    reader: await key(readPolicy, { name: uniqueName("Rechnungsprüfung 100%"), service: "billing" }),
    underPrivileged: (await key(writePolicy)).credentials,
    outOfSubnet: (await key(readPolicy, { allowedSubnets: ["10.0.0.0/8"] })).credentials,
    constrained: (await key(readPolicy, { constraints: [{ type: ConstraintType.PREFIX, value: "/invoices" }] })).credentials,
    retired: retired.credentials,
    unknown: newCredentials("kw", retired.id).credentials,
    expiring: (await key(readPolicy, {}, 3_600_000)).credentials,
    expire: () => kw.clock.advance(2 * 3_600_000),
  };
}

/** Gives the reader's policy other permissions (a policy change the next check must see). */
export async function setReaderPermissions(kw: RunningKeyward, c: Clients, keys: ProxyKeys, permissions: string[]): Promise<void> {
  await c.policies.call(PolicyService.method.adminUpdateApiKeyPolicy, { policy: { id: keys.reader.policyId, permissions }, updateMask: { paths: ["permissions"] } }, kw.adminKey);
}

/** The proxies whose README snippets the tests run as written. */
export const README_PROXIES: Array<[string, (setup: ProxySetup) => Promise<RunningProxy>]> = [
  ["nginx", (setup) => startNginx(setup)],
  ["Caddy", (setup) => startCaddy(setup)],
];

/** Keyward on PGlite with the proxy keys, an upstream, and a proxy in front of both. */
export interface ProxyStack {
  kw: RunningKeyward;
  c: Clients;
  keys: ProxyKeys;
  upstream: Upstream;
  proxy: RunningProxy;
}

export async function startProxyStack(start: (setup: ProxySetup) => Promise<RunningProxy>): Promise<ProxyStack> {
  const kw = await startKeyward({ kind: "pglite" });
  const c = grpcClients(kw.port);
  const keys = await createProxyKeys(kw, c);
  const upstream = await startUpstream();
  const proxy = await start({ keywardPort: kw.port, upstreamPort: upstream.port, proxyKey: keys.proxy });
  return { kw, c, keys, upstream, proxy };
}

export async function stopProxyStack(stack: ProxyStack | undefined): Promise<void> {
  await stack?.proxy.stop();
  await stack?.upstream.close();
  stack?.c.close();
  await stack?.kw.close();
}
