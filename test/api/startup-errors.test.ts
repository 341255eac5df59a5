// A start that cannot reach its database says which setting is wrong, or
// which server could not be reached and why, and never prints a password.
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { killAll, spawnKeyward } from "../../harness/process.js";

afterEach(killAll);

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function failedStart(databaseUrl: string): Promise<string> {
  const started = spawnKeyward({ DATABASE_URL: databaseUrl });
  expect(await started.exited).not.toBe(0);
  expect(started.output()).not.toMatch(/Keyward listening on/);
  return started.output();
}

describe("start-up errors about the database", { timeout: 60_000 }, () => {
  it("refuses a DATABASE_URL without a scheme", async () => {
    const out = await failedStart("127.0.0.1:5432");
    expect(out).toContain("DATABASE_URL");
    expect(out).toMatch(/postgres:\/\//);
    expect(out).not.toMatch(/ENOTFOUND|getaddrinfo/);
  });

  it("refuses a DATABASE_URL that is not PostgreSQL, without echoing its password", async () => {
    const out = await failedStart("mysql://u:hunter2@h/db");
    expect(out).toContain("DATABASE_URL");
    expect(out).toContain("mysql");
    expect(out).not.toContain("hunter2");
  });

  it("names the host and port it could not reach, and why, when the server refuses the connection", async () => {
    const port = await closedPort();
    const out = await failedStart(`postgres://keyward:hunter2@127.0.0.1:${port}/x`);
    expect(out).toContain(`127.0.0.1:${port}`);
    expect(out).toMatch(/refused/i);
    expect(out).toContain("DATABASE_URL");
    expect(out).not.toMatch(/migration unknown/);
    expect(out).not.toContain("hunter2");
  });
});
