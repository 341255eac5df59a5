// The one rule for a caller key's constraints on Keyward's own API
// (domain/principal.ts withinConstraints): a key may rotate itself whatever
// they say; any other admin action needs them to allow the request.
import { describe, expect, it } from "vitest";
import { refusedTarget, target } from "../../src/domain/audit.js";
import { checkConstraints } from "../../src/domain/constraints.js";
import { possessor, SYSTEM, withinConstraints, type Principal } from "../../src/domain/principal.js";

/** A caller whose key may be used under /jobs only, making `method` `path`. */
const jobsKey = (method: string, path: string): Principal => ({
  keyId: "k1",
  policyId: "p1",
  grants: [{ kind: "all" }],
  allowedSubnets: [],
  constraints: checkConstraints("constraints", [{ type: "prefix", value: "/jobs" }]),
  service: null,
  request: { method, path },
  secretRotatedOut: false,
  clientIp: "",
});

describe("withinConstraints", () => {
  it("lets a key rotate itself whatever its constraints say", () => {
    expect(withinConstraints(jobsKey("POST", "/api/v1/api_keys/k1:rotate"), "k1")).toBe(true);
  });

  it("judges the request against the constraints for any other action", () => {
    expect(withinConstraints(jobsKey("POST", "/api/v1/api_keys/k2:rotate"), "k2")).toBe(false);
    expect(withinConstraints(jobsKey("PUT", "/api/v1/services/mail/permissions"))).toBe(false);
    expect(withinConstraints(jobsKey("POST", "/jobs/keyward.v1.ApiKeyService/AdminRotateApiKey"), "k2")).toBe(true);
  });

  it("holds Keyward itself to nothing and allows nothing to whoever made no request", () => {
    expect(withinConstraints(SYSTEM)).toBe(true);
    expect(withinConstraints(possessor("k1", "192.0.2.1"))).toBe(false);
    expect(withinConstraints(possessor("k1", "192.0.2.1"), "k1")).toBe(true);
  });
});

describe("refusedTarget", () => {
  it("is keyed by the collection its targets start with, as the REST paths name them", () => {
    expect([...refusedTarget].map(([collection, name]) => name("k1").startsWith(`${collection}/`))).toEqual([true, true, true, true]);
    expect(refusedTarget.get("api_keys")!("0123456789abcdef")).toBe(target.apiKey("0123456789abcdef"));
    expect(refusedTarget.get("services")!("Not A Service")).toBe(target.service("<invalid>"));
  });
});
