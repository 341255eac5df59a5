// main.ts binds the port before it opens the store: until Keyward is ready
// the port answers, but /healthz says NOT_SERVING (503) and RPCs 503.
import { afterEach, describe, expect, it } from "vitest";
import { createKeyward, type Keyward } from "../../src/app.js";
import { createLogger } from "../../src/logger.js";
import { connectionLimits, startingHandler } from "../../src/server.js";
import { OnePortServer } from "../../src/transport/one-port.js";
import { testConfig } from "../support/keyward.js";
import { fromTemplate } from "../support/stores.js";

const open: Keyward[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((k) => k.close()));
});

describe("a port bound before the store is open", () => {
  it("answers 503 until Keyward is ready, then serves on the same port", async () => {
    const config = testConfig(await fromTemplate({ kind: "pglite" }));
    const server = new OnePortServer(startingHandler, connectionLimits(config.connections));
    const { port } = await server.listen(0, "127.0.0.1");
    const url = `http://127.0.0.1:${port}`;

    const starting = await fetch(`${url}/healthz`);
    expect(starting.status).toBe(503);
    expect(await starting.json()).toEqual({ status: "NOT_SERVING" });
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    // Alive while it starts: a liveness probe must not restart a start that is opening its store.
    expect(await (await fetch(`${url}/livez`)).json()).toEqual({ status: "LIVE" });
    expect((await fetch(`${url}/keyward.v1.PolicyService/ListPolicies`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } })).status).toBe(503);

    const keyward = await createKeyward(config, createLogger("silent"), { server });
    open.push(keyward);
    expect((await keyward.listen()).port).toBe(port);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await fetch(`${url}/livez`)).status).toBe(200);
  });
});
