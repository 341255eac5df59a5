// Issue #17, item 2: Keyward's own authorization, registration and README
// permission table all come from the proto options on its RPCs.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AUTHENTICATED, KEYWARD_SERVICES, PUBLIC, requirementOf } from "../../src/transport/authorization.js";
import { keywardPermissionDefinitions } from "../../src/transport/keyward-declarations.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";

/** The README's table under "## The API": RPC name → what the row says it needs. */
function readmeTable(): Map<string, string> {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("## The API"));
  const rows = section.slice(0, section.indexOf("\n\n", section.indexOf("| service |"))).split("\n").filter((l) => l.startsWith("| "));
  const table = new Map<string, string>();
  let service = "";
  for (const row of rows.slice(1)) {
    const [svc, rpcs, needs] = row.split("|").slice(1, 4).map((c) => c.trim());
    if (svc) service = svc.replaceAll("`", "");
    for (const rpc of rpcs!.matchAll(/`(\w+)`/g)) table.set(`${service}/${rpc[1]}`, needs!);
  }
  return table;
}

describe("Keyward's requirements come from its proto options", () => {
  it("every Keyward RPC declares what it needs; the README's table says the same, row by row", () => {
    const table = readmeTable();
    const expected = new Map<string, string>();
    for (const service of KEYWARD_SERVICES) {
      for (const method of service.methods) {
        const requirement = requirementOf(method);
        expect(requirement, `${service.name}/${method.name} declares nothing`).toBeDefined();
        expected.set(`${service.name}/${method.name}`, requirement!);
      }
    }
    const readmeKeyward = [...table].filter(([rpc]) => !rpc.startsWith("grpc."));
    expect(readmeKeyward.map(([rpc]) => rpc).sort()).toEqual([...expected.keys()].sort());
    for (const [rpc, needs] of readmeKeyward) {
      const requirement = expected.get(rpc)!;
      if (requirement === AUTHENTICATED) expect(needs, rpc).toMatch(/^nothing/);
      else if (requirement === PUBLIC) expect(needs, rpc).toMatch(/^no key/);
      else expect(needs.match(/`(keyward\.[a-z_.]+)`/)?.[1], rpc).toBe(requirement);
    }
    for (const method of Health.methods) expect(requirementOf(method)).toBe(PUBLIC);
  });

  it("Keyward registers exactly the permissions its services declare, each with a description", () => {
    const definitions = keywardPermissionDefinitions();
    expect(definitions.map((d) => d.name).sort()).toEqual([
      "keyward.api_keys.read",
      "keyward.api_keys.write",
      "keyward.audit.read",
      "keyward.keys.check",
      "keyward.permissions.read",
      "keyward.permissions.register",
      "keyward.policies.read",
      "keyward.policies.write",
      "keyward.webhooks.read",
      "keyward.webhooks.write",
    ]);
    for (const d of definitions) expect(d.description).not.toBe("");
  });
});
