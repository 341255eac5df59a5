// Leak reports (design §8, issue #19): POST /api/v1/leak_reports in GitHub's
// secret-scanning partner format, signed with a P-256 key pair made here and
// trusted through GitHub's published key JSON. A signed report retires each
// live key a token proves and labels every token by its SHA-256; a forged,
// unsigned or oversized report retires nothing; no token reaches the audit
// log or the process log.
import { execFile } from "node:child_process";
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService, ApiKeyState } from "../../gen/keyward/v1/api_keys_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_pb.js";
import { CheckCode, CheckService } from "../../gen/keyward/v1/check_pb.js";
import { newCredentials } from "../../src/domain/key-format.js";
import { publicKeysFromGitHubJson } from "../../src/domain/leak-report-signature.js";
import { GrpcClient } from "../../harness/clients.js";
import { grpcClients, keyWithPermissions, type Clients } from "../support/fixtures.js";
import { LogCapture, startKeyward, type RunningKeyward } from "../support/keyward.js";
import { WebhookReceiver } from "../support/webhook-receiver.js";
import { WebhookService } from "../../gen/keyward/v1/webhooks_pb.js";
import { metricValue } from "../support/metrics.js";
import { TEST_STORES } from "../support/stores.js";

const PATH = "/api/v1/leak_reports";
const SIGNER_ID = "f9525bf080f75b3506ca1ead061add62b8633a346606dc5fe544e29231c6ee0d";

const p256 = () => generateKeyPairSync("ec", { namedCurve: "P-256" });
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
/** What GitHub's scanner does: a DER ECDSA signature of the raw body, base64. */
const signature = (body: string, key: KeyObject) => sign("sha256", Buffer.from(body), { key, dsaEncoding: "der" }).toString("base64");

/** GitHub's https://api.github.com/meta/public_keys/secret_scanning, with our test key in it. */
const publishedKeys = (publicKey: KeyObject) =>
  JSON.stringify({ public_keys: [{ key_identifier: SIGNER_ID, key: publicKey.export({ type: "spki", format: "pem" }), is_current: true }] });

interface Match {
  token: string;
  type?: string;
  url?: string;
  source?: string;
}
const match = (token: string): Match => ({ token, type: "keyward_api_key", url: "https://github.com/octocat/hello/blob/abc/config.env", source: "content" });

describe.each(TEST_STORES)("leak reports on $name", (store) => {
  const scanner = p256();
  const impostor = p256();
  let kw: RunningKeyward;
  let c: Clients;
  let audit: GrpcClient<typeof AuditService>;
  let receiver: WebhookReceiver;
  const logs = new LogCapture();
  /** Every token reported: none may appear in a log line or an audit entry. */
  const reported: string[] = [];

  beforeAll(async () => {
    kw = await startKeyward(await store.create(), {
      logger: logs.logger("trace"),
      config: { leakReportPublicKeys: publicKeysFromGitHubJson(publishedKeys(scanner.publicKey)), trustedProxyHops: 1 },
    });
    c = grpcClients(kw.port);
    audit = new GrpcClient(AuditService, kw.port);
    receiver = await new WebhookReceiver().start();
    const hooks = new GrpcClient(WebhookService, kw.port);
    await hooks.call(WebhookService.method.adminCreateWebhookEndpoint, { url: receiver.url, eventTypes: ["api_key.leaked"] }, kw.adminKey);
    hooks.close();
  });
  afterAll(async () => {
    c?.close();
    audit?.close();
    await kw?.close();
    await receiver?.close();
  });

  const newKey = () => keyWithPermissions(kw, c, ["keyward.keys.check"]);
  const codeOf = async (key: string) => (await c.check.call(CheckService.method.checkKey, { key, permissions: [] }, kw.adminKey)).code;
  const auditCount = async () => (await audit.call(AuditService.method.adminListAuditEvents, { pageSize: 1000 }, kw.adminKey)).auditEvents.length;

  /** POSTs `body` as GitHub would; `signedWith: null` sends no signature headers. */
  async function post(body: string, options: { signedWith?: KeyObject | null; keyId?: string; signedBody?: string; method?: string } = {}) {
    const headers: Record<string, string> = { "content-type": "application/json", "x-forwarded-for": "192.0.2.10" };
    if (options.signedWith !== null) {
      headers["Github-Public-Key-Identifier"] = options.keyId ?? SIGNER_ID;
      headers["Github-Public-Key-Signature"] = signature(options.signedBody ?? body, options.signedWith ?? scanner.privateKey);
    }
    const res = await fetch(`${kw.url}${PATH}`, { method: options.method ?? "POST", headers, body: options.method === "GET" ? undefined : body });
    return { status: res.status, json: (await res.json()) as unknown };
  }
  const report = (matches: Match[], options: Parameters<typeof post>[1] = {}) => {
    reported.push(...matches.map((m) => m.token));
    return post(JSON.stringify(matches), options);
  };

  it("retires a live key a signed report names, and labels each token by its SHA-256", async () => {
    const leaked = await newKey();
    // Warm: the verification cache holds the key, so the retirement must reach it.
    expect(await codeOf(leaked.credentials)).toBe(CheckCode.VALID);
    const unknown = newCredentials("kw").credentials;
    const answer = await report([match(leaked.credentials), match(unknown), { token: "not a keyward key", type: "other" }]);
    expect(answer).toEqual({
      status: 200,
      json: [
        { token_hash: sha256(leaked.credentials), token_type: "keyward_api_key", label: "true_positive" },
        { token_hash: sha256(unknown), token_type: "keyward_api_key", label: "false_positive" },
        { token_hash: sha256("not a keyward key"), token_type: "other", label: "false_positive" },
      ],
    });
    expect(await codeOf(leaked.credentials)).toBe(CheckCode.RETIRED);
    const record = (await c.keys.call(ApiKeyService.method.adminGetApiKey, { id: leaked.id }, kw.adminKey)).apiKey!;
    expect(record.state).toBe(ApiKeyState.RETIRED);
    // No key of Keyward's retired it.
    expect(record.retirerKeyId).toBe("");
    // Webhook endpoints hear of the leak: the key, and the report without its token.
    await receiver.waitFor(() => receiver.ofType("api_key.leaked").some((e) => JSON.stringify(e.data).includes(leaked.id)));
    const event = receiver.ofType("api_key.leaked").find((e) => JSON.stringify(e.data).includes(leaked.id))!;
    expect(event.data).toMatchObject({ apiKey: { id: leaked.id, state: "retired" }, report: expect.stringMatching(/^leak report signed by /) });
    expect(JSON.stringify(event)).not.toContain(leaked.credentials.split("_")[2]!);
  });

  it("audits the retirement as a leak report: no actor key, the sender's address, the report's source and URL, no token", async () => {
    const leaked = await newKey();
    const url = "https://github.com/octocat/hello/blob/0123abc/.env";
    await report([{ token: leaked.credentials, type: "keyward_api_key", url, source: "commit" }]);
    const { auditEvents } = await audit.call(AuditService.method.adminListAuditEvents, { target: `api_keys/${leaked.id}` }, kw.adminKey);
    const entry = auditEvents.find((e) => e.action === "ReportLeakedApiKey");
    expect(entry).toMatchObject({ actorKeyId: "", outcome: "OK", clientIp: "192.0.2.10", changedFields: ["state"] });
    expect(entry!.detail).toBe(`leak report signed by ${SIGNER_ID}; source: commit; url: ${url}`);
  });

  it("keeps the token out of the audit detail even when the report's URL holds it, and bounds the detail", async () => {
    const leaked = await newKey();
    await report([{ token: leaked.credentials, url: `https://example.com/?q=${leaked.credentials}&pad=${"x".repeat(5000)}`, source: "s\u0000".repeat(100) }]);
    const { auditEvents } = await audit.call(AuditService.method.adminListAuditEvents, { target: `api_keys/${leaked.id}` }, kw.adminKey);
    const detail = auditEvents.find((e) => e.action === "ReportLeakedApiKey")!.detail;
    expect(detail).not.toContain(leaked.credentials);
    expect(detail).toContain("q=[token]&pad=");
    expect(detail.length).toBeLessThan(1100);
    expect(detail).not.toContain("\u0000");
  });

  it("retires a key by the secret a rotation replaced, during its overlap; a retired key's secret is still a true positive, audited once", async () => {
    const key = await newKey();
    const rotated = await c.keys.call(ApiKeyService.method.adminRotateApiKey, { id: key.id, overlap: { seconds: 3600n } }, kw.adminKey);
    const first = await report([match(key.credentials)]);
    expect(first.json).toEqual([{ token_hash: sha256(key.credentials), token_type: "keyward_api_key", label: "true_positive" }]);
    expect(await codeOf(rotated.credentials)).toBe(CheckCode.RETIRED);
    const before = await auditCount();
    // GitHub may report a key again (another commit): its secret is still real, and nothing more is done.
    // Retiring a key drops the secret its rotation replaced, so that one no longer proves anything.
    const again = await report([match(rotated.credentials), match(key.credentials)]);
    expect(again.json).toEqual([
      { token_hash: sha256(rotated.credentials), token_type: "keyward_api_key", label: "true_positive" },
      { token_hash: sha256(key.credentials), token_type: "keyward_api_key", label: "false_positive" },
    ]);
    expect(await auditCount()).toBe(before);
  });

  it("judges tokens that are not well-formed Keyward keys without any argon2", async () => {
    const victim = await newKey();
    const badChecksum = victim.credentials.slice(0, -1) + (victim.credentials.endsWith("A") ? "B" : "A");
    const before = await metricValue(kw.url, "keyward_argon2_verifications_total");
    const answer = await report([match(badChecksum), match("kw_short"), match(`xx${victim.credentials.slice(2)}`), match("")]);
    expect((answer.json as { label: string }[]).map((f) => f.label)).toEqual(["false_positive", "false_positive", "false_positive", "false_positive"]);
    expect(await metricValue(kw.url, "keyward_argon2_verifications_total")).toBe(before);
    expect(await codeOf(victim.credentials)).toBe(CheckCode.VALID);
  });

  it("refuses a forged, tampered, unsigned or unknown-key report with 401 and retires nothing", async () => {
    const victim = await newKey();
    const body = JSON.stringify([match(victim.credentials)]);
    reported.push(victim.credentials);
    const before = await auditCount();
    const attempts = {
      "signed by another key under the trusted id": post(body, { signedWith: impostor.privateKey }),
      "signature of another body": post(body, { signedBody: JSON.stringify([match(newCredentials("kw").credentials)]) }),
      "the signed body with a space added": post(`${body} `, { signedBody: body }),
      "no signature headers": post(body, { signedWith: null }),
      "an unknown key id": post(body, { keyId: "0".repeat(64) }),
    };
    for (const [what, attempt] of Object.entries(attempts)) {
      const answer = await attempt;
      expect(answer.status, what).toBe(401);
      expect(answer.json, what).toMatchObject({ code: 16, message: expect.stringContaining("signature") });
    }
    const garbage = await fetch(`${kw.url}${PATH}`, {
      method: "POST",
      headers: { "Github-Public-Key-Identifier": SIGNER_ID, "Github-Public-Key-Signature": "not base64!" },
      body,
    });
    expect(garbage.status).toBe(401);
    expect(await codeOf(victim.credentials)).toBe(CheckCode.VALID);
    expect(await auditCount()).toBe(before);
  });

  it("refuses a report of more than 100 tokens, or a body over 1 MiB, with 413 and retires nothing", async () => {
    const victim = await newKey();
    const many = [match(victim.credentials), ...Array.from({ length: 100 }, () => match(newCredentials("kw").credentials))];
    const tooMany = await report(many);
    expect(tooMany.status).toBe(413);
    expect(tooMany.json).toMatchObject({ code: 3, message: expect.stringContaining("at most 100 tokens") });
    expect(await codeOf(victim.credentials)).toBe(CheckCode.VALID);
    const huge = await report([{ ...match(victim.credentials), url: "u".repeat(1024 * 1024) }]);
    expect(huge.status).toBe(413);
    expect(await codeOf(victim.credentials)).toBe(CheckCode.VALID);
    // 100 is allowed.
    expect((await report(many.slice(1))).status).toBe(200);
  });

  it("refuses a signed report that is not an array of {token, …} with 400, naming what is wrong", async () => {
    const cases: [string, string][] = [
      ["not JSON", "body"],
      ['{"token":"x"}', "array"],
      ["[42]", "[0]"],
      ['[{"token":1}]', "[0].token"],
      ['[{"token":"a","url":5}]', "[0].url"],
    ];
    for (const [body, named] of cases) {
      const answer = await post(body);
      expect(answer.status, body).toBe(400);
      expect(answer.json, body).toMatchObject({ code: 3, message: expect.stringContaining(named) });
    }
    // Fields GitHub may add later are ignored; an empty report is answered with an empty array.
    expect(await post('[{"token":"a","type":"t","url":"","source":"content","new_field":true}]')).toMatchObject({ status: 200 });
    expect(await post("[]")).toEqual({ status: 200, json: [] });
  });

  it("accepts a report signed by openssl and sent by curl, as the README shows", async () => {
    const leaked = await newKey();
    reported.push(leaked.credentials);
    const dir = mkdtempSync(join(tmpdir(), "keyward-leak-"));
    writeFileSync(join(dir, "scanner.pem"), scanner.privateKey.export({ type: "sec1", format: "pem" }), { mode: 0o600 });
    writeFileSync(join(dir, "report.json"), JSON.stringify([match(leaked.credentials)]));
    // The README's lines, word for word but for the URL and the key id.
    const script = [
      "sig=$(openssl dgst -sha256 -sign scanner.pem report.json | base64 -w0)",
      `curl -s -X POST ${kw.url}${PATH} -H 'content-type: application/json' -H 'Github-Public-Key-Identifier: ${SIGNER_ID}' -H "Github-Public-Key-Signature: $sig" --data-binary @report.json`,
    ].join("\n");
    const { stdout } = await promisify(execFile)("sh", ["-c", script], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual([{ token_hash: sha256(leaked.credentials), token_type: "keyward_api_key", label: "true_positive" }]);
    expect(await codeOf(leaked.credentials)).toBe(CheckCode.RETIRED);
  });

  it("answers other methods 405", async () => {
    const res = await fetch(`${kw.url}${PATH}`);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
  });

  it("writes no reported token to the log, and logs each retirement by key id", async () => {
    for (const token of reported) {
      const secretPart = token.split("_")[2];
      if (secretPart !== undefined && secretPart.length > 8) expect(logs.text).not.toContain(secretPart);
    }
    const lines = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.msg === "API key revoked by a leak report")).toMatchObject({ apiKeyId: expect.any(String), clientIp: "192.0.2.10" });
    expect(lines.find((l) => l.msg === "leak report judged")).toMatchObject({ signerKeyId: SIGNER_ID });
    const audited = await audit.call(AuditService.method.adminListAuditEvents, { pageSize: 1000 }, kw.adminKey);
    const text = JSON.stringify(audited.auditEvents, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));
    for (const token of reported) {
      const secretPart = token.split("_")[2];
      if (secretPart !== undefined && secretPart.length > 8) expect(text).not.toContain(secretPart);
    }
  });
});

describe("leak reports without a configured key", () => {
  let kw: RunningKeyward;
  beforeAll(async () => {
    kw = await startKeyward(await TEST_STORES[0]!.create());
  });
  afterAll(async () => {
    await kw?.close();
  });

  it("answers 404 naming KEYWARD_LEAK_REPORT_PUBLIC_KEYS, whatever is sent", async () => {
    const res = await fetch(`${kw.url}${PATH}`, { method: "POST", body: "[]" });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 5, message: expect.stringContaining("KEYWARD_LEAK_REPORT_PUBLIC_KEYS") });
  });
});
