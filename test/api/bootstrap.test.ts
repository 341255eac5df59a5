// The first admin key is issued once per store: to a 0600 file or one stdout
// line, never again — not on restart, not when replicas start together.
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createKeyward, type Keyward } from "../../src/app.js";
import { SYSTEM } from "../../src/domain/principal.js";
import { createLogger } from "../../src/logger.js";
import { testConfig } from "../support/keyward.js";
import { POSTGRES_URL, freshPostgresDatabase, fromTemplate } from "../support/stores.js";

const silent = createLogger("silent");
const open: Keyward[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((k) => k.close()));
});

async function start(config: ReturnType<typeof testConfig>, deliver?: (c: string) => Promise<void>): Promise<Keyward> {
  const keyward = await createKeyward({ ...config, store: await fromTemplate(config.store) }, silent, deliver ? { deliverBootstrapKey: deliver } : {});
  open.push(keyward);
  return keyward;
}

const isValid = async (keyward: Keyward, key: string) =>
  (await keyward.services.checker.check({ key, permissions: ["keyward.api_keys.write"], method: "", path: "", clientIp: "" })).code === "VALID";

describe("bootstrap admin key", () => {
  it("is written once to KEYWARD_BOOTSTRAP_KEY_FILE with mode 0600, and a restart issues no other", async () => {
    const dir = await mkdtemp(join(tmpdir(), "keyward-boot-"));
    const file = join(dir, "admin.key");
    const config = testConfig({ kind: "pglite", dataDir: join(dir, "data") }, { bootstrapKeyFile: file });

    const first = await start(config);
    expect(first.bootstrapKeyId).toBeDefined();
    const key = (await readFile(file, "utf8")).trim();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await isValid(first, key)).toBe(true);
    await first.services.policies.create(
      { ...SYSTEM, keyId: first.bootstrapKeyId! },
      { name: "kept", description: "", permissions: ["keyward.keys.check"] },
    );
    await first.close();
    open.length = 0;

    const second = await start(config);
    expect(second.bootstrapKeyId).toBeUndefined();
    expect((await readFile(file, "utf8")).trim()).toBe(key);
    expect(await isValid(second, key)).toBe(true);
    expect((await second.services.policies.list({ pageSize: 0, pageToken: "", nameContains: "" })).policies.map((p) => p.name).sort()).toEqual(["kept", "keyward-admin"]);
    const keys = await second.store.db.selectFrom("api_keys").select("id").execute();
    expect(keys).toHaveLength(1);
  });

  it("never overwrites an existing file: the start fails and issues nothing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "keyward-boot-"));
    const file = join(dir, "admin.key");
    await writeFile(file, "someone else's\n");
    const config = testConfig({ kind: "pglite", dataDir: join(dir, "data") }, { bootstrapKeyFile: file });
    await expect(createKeyward({ ...config, store: await fromTemplate(config.store) }, silent)).rejects.toMatchObject({ code: "EEXIST" });
    expect(await readFile(file, "utf8")).toBe("someone else's\n");

    const retry = await start(testConfig(config.store, { bootstrapKeyFile: join(dir, "second.key") }));
    expect(retry.bootstrapKeyId).toBeDefined();
    expect(await isValid(retry, (await readFile(join(dir, "second.key"), "utf8")).trim())).toBe(true);
  });

  it.skipIf(!POSTGRES_URL)("is issued exactly once when replicas start together on one PostgreSQL", async () => {
    const url = await freshPostgresDatabase();
    const delivered: string[] = [];
    const deliver = async (credentials: string) => {
      delivered.push(credentials);
    };
    const replicas = await Promise.all([0, 1, 2].map(() => start(testConfig({ kind: "postgres", url }), deliver)));
    expect(delivered).toHaveLength(1);
    expect(replicas.filter((r) => r.bootstrapKeyId !== undefined)).toHaveLength(1);
    for (const replica of replicas) expect(await isValid(replica, delivered[0]!)).toBe(true);
    const keys = await replicas[0]!.store.db.selectFrom("api_keys").select("id").execute();
    expect(keys).toHaveLength(1);
  });
});
