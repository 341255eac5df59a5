// Variables checked at start: DATABASE_URL (a PostgreSQL URL with a host, or
// a ConfigError naming the variable and the fault, never the password) and
// KEYWARD_LEAK_REPORT_PUBLIC_KEYS (below).
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

const refusal = (url: string): ConfigError => {
  try {
    loadConfig({ DATABASE_URL: url });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`${url} was accepted`);
};

describe("DATABASE_URL", () => {
  it.each([
    "postgres://keyward@db.internal:5432/keyward",
    "postgresql://keyward:s3cret@db.internal/keyward?sslmode=require",
    "postgres://[::1]:5432/keyward",
    "postgresql:///keyward?host=/var/run/postgresql",
  ])("accepts %s as given", (url) => {
    expect(loadConfig({ DATABASE_URL: url }).store).toEqual({ kind: "postgres", url });
  });

  it.each([
    ["127.0.0.1:5432", /not a URL|postgres:\/\//],
    ["db.internal/keyward", /not a URL|postgres:\/\//],
    ["mysql://u@h/db", /"mysql:".*postgres:\/\/ or postgresql:\/\//],
    ["http://db.internal/keyward", /"http:"/],
    ["postgres:///keyward", /host/],
    ["postgres://", /host/],
  ])("refuses %s", (url, reason) => {
    const error = refusal(url);
    expect(error.message).toMatch(/^DATABASE_URL: /);
    expect(error.message).toMatch(reason);
  });

  it("never puts the password in the message", () => {
    for (const url of ["mysql://keyward:hunter2@h/db", "keyward:hunter2@db.internal/keyward", "postgres://keyward:hunter2@/db", "hunter2"]) {
      expect(refusal(url).message).not.toContain("hunter2");
    }
  });
});

describe("webhook settings", () => {
  it("refuses private addresses and retries over about a day unless told otherwise", () => {
    const { webhooks } = loadConfig({});
    expect(webhooks.allowPrivate).toBe(false);
    expect(webhooks.timeoutMs).toBe(15_000);
    expect(webhooks.retryScheduleMs).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
  });

  it("reads KEYWARD_WEBHOOK_ALLOW_PRIVATE and KEYWARD_WEBHOOK_RETRIES, refusing what they cannot mean", () => {
    expect(loadConfig({ KEYWARD_WEBHOOK_ALLOW_PRIVATE: "true", KEYWARD_WEBHOOK_RETRIES: "1s, 10s" }).webhooks).toMatchObject({ allowPrivate: true, retryScheduleMs: [1_000, 10_000] });
    expect(() => loadConfig({ KEYWARD_WEBHOOK_ALLOW_PRIVATE: "yes" })).toThrow('KEYWARD_WEBHOOK_ALLOW_PRIVATE: "yes" must be true or false');
    expect(() => loadConfig({ KEYWARD_WEBHOOK_RETRIES: "5s,2d" })).toThrow(/^KEYWARD_WEBHOOK_RETRIES: must be at most 1d/);
  });
});

// KEYWARD_LEAK_REPORT_PUBLIC_KEYS names a file holding GitHub's published
// secret-scanning keys; anything else stops the start naming the variable.
describe("KEYWARD_LEAK_REPORT_PUBLIC_KEYS", () => {
  const dir = mkdtempSync(join(tmpdir(), "keyward-leak-keys-"));
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const pem = (curve: string) => generateKeyPairSync("ec", { namedCurve: curve }).publicKey.export({ type: "spki", format: "pem" }) as string;
  const published = (key: string) => JSON.stringify({ public_keys: [{ key_identifier: "abc123", key, is_current: true }, { key_identifier: "old", key, is_current: false }] });

  it("is off when unset", () => {
    expect(loadConfig({}).leakReportPublicKeys).toBeUndefined();
  });

  it("reads every key GitHub lists, current or not, by its key_identifier", () => {
    const key = pem("P-256");
    expect(loadConfig({ KEYWARD_LEAK_REPORT_PUBLIC_KEYS: file("github.json", published(key)) }).leakReportPublicKeys).toEqual({ abc123: key, old: key });
  });

  it.each([
    ["a missing file", join(dir, "nope.json"), /cannot read .*ENOENT/],
    ["not JSON", "not json", /is not JSON/],
    ["no public_keys", "{}", /no "public_keys" array/],
    ["an entry without an id", JSON.stringify({ public_keys: [{ key: "x" }] }), /public_keys\[0\]\.key_identifier/],
    ["a key that is not PEM", JSON.stringify({ public_keys: [{ key_identifier: "a", key: "nope" }] }), /public_keys\[0\]\.key is not a PEM public key/],
    ["a key on another curve", published(pem("P-384")), /public_keys\[0\]\.key is not an ECDSA P-256 public key/],
  ])("refuses %s, naming the variable", (what, content, reason) => {
    const path = what === "a missing file" ? content : file(`${what.replaceAll(" ", "-")}.json`, content);
    let error: unknown;
    try {
      loadConfig({ KEYWARD_LEAK_REPORT_PUBLIC_KEYS: path });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^KEYWARD_LEAK_REPORT_PUBLIC_KEYS: /);
    expect((error as Error).message).toMatch(reason);
  });
});

describe("lifecycle settings", () => {
  it("warns 7 days ahead, runs a round a minute and retires nothing for idleness unless told", () => {
    expect(loadConfig({}).lifecycle).toEqual({ intervalMs: 60_000, expiryWarningMs: 7 * 86_400_000, idleRetireAfterMs: undefined, batchSize: 500 });
  });

  it("reads KEYWARD_EXPIRY_WARNING, KEYWARD_IDLE_RETIRE_AFTER and KEYWARD_LIFECYCLE_INTERVAL, refusing what they cannot mean", () => {
    expect(loadConfig({ KEYWARD_EXPIRY_WARNING: "2d", KEYWARD_IDLE_RETIRE_AFTER: "90d", KEYWARD_LIFECYCLE_INTERVAL: "5m" }).lifecycle).toMatchObject({
      expiryWarningMs: 2 * 86_400_000,
      idleRetireAfterMs: 90 * 86_400_000,
      intervalMs: 300_000,
    });
    expect(() => loadConfig({ KEYWARD_IDLE_RETIRE_AFTER: "30m" })).toThrow("KEYWARD_IDLE_RETIRE_AFTER: must be at least 1h");
    expect(() => loadConfig({ KEYWARD_IDLE_RETIRE_AFTER: "never" })).toThrow(/^KEYWARD_IDLE_RETIRE_AFTER: "never" is not a duration/);
    expect(() => loadConfig({ KEYWARD_EXPIRY_WARNING: "0s" })).toThrow("KEYWARD_EXPIRY_WARNING: must be greater than zero");
    expect(() => loadConfig({ KEYWARD_LIFECYCLE_INTERVAL: "2h" })).toThrow(/^KEYWARD_LIFECYCLE_INTERVAL: must be at most/);
  });
});
