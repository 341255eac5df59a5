// The embedded store belongs to one process: a second Keyward on the same
// data directory refuses to start (and says who holds it and what to use
// instead), a lock left by `kill -9` does not block the next start, and a
// start that cannot have its port touches no data at all.
import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { killAll, listening, spawnKeyward } from "../../harness/process.js";

afterEach(killAll);

const freshDataDir = async () => join(await mkdtemp(join(tmpdir(), "keyward-single-")), "data");

describe("one process per embedded store", { timeout: 180_000 }, () => {
  it("refuses a second process on the same data directory, naming the holder, while the first keeps serving", async () => {
    const dataDir = await freshDataDir();
    const first = spawnKeyward({ KEYWARD_DATA_DIR: dataDir });
    const url = await listening(first);

    const second = spawnKeyward({ KEYWARD_DATA_DIR: dataDir });
    expect(await second.exited).not.toBe(0);
    const message = second.output();
    expect(message).toContain(`pid ${first.child.pid}`);
    expect(message).toContain("DATABASE_URL");
    expect(message).not.toMatch(/Keyward listening on/);

    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);

    // A clean stop releases the store: the next start takes it.
    const third = spawnKeyward({ KEYWARD_DATA_DIR: dataDir });
    expect((await fetch(`${await listening(third)}/healthz`)).status).toBe(200);
  });

  it("starts after the holder was killed with SIGKILL (a stale lock does not block)", async () => {
    const dataDir = await freshDataDir();
    const first = spawnKeyward({ KEYWARD_DATA_DIR: dataDir });
    await listening(first);
    first.child.kill("SIGKILL");
    await first.exited;

    const next = spawnKeyward({ KEYWARD_DATA_DIR: dataDir });
    expect((await fetch(`${await listening(next)}/healthz`)).status).toBe(200);
  });

  it("fails on a port in use with a message saying so, before creating or touching the data directory", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const dataDir = await freshDataDir();
      const started = spawnKeyward({ KEYWARD_DATA_DIR: dataDir, KEYWARD_PORT: String(port) });
      expect(await started.exited).not.toBe(0);
      expect(started.output()).toContain(`127.0.0.1:${port}`);
      expect(started.output()).toMatch(/in use/);
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      blocker.close();
    }
  });
});
