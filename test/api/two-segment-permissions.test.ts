// Issue #17, item 1: two-segment (and deeper) permission names work end to end:
// register, grant (exact and by pattern), check, list; the grammar's error names the rule.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CheckCode } from "../../gen/keyward/v1/check_pb.js";
import { CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { grpcClients, keyWithPermissions, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

describe.each(TEST_STORES)("permission names of two to five segments, on $name", (store) => {
  let kw: RunningKeyward;
  let c: Clients;
  let checker: string;

  beforeAll(async () => {
    kw = await startKeyward(await store.create());
    c = grpcClients(kw.port);
    checker = (await keyWithPermissions(kw, c, ["keyward.keys.check"])).credentials;
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
  });

  const check = (key: string, permissions: string[]) => c.check.call(CheckService.method.checkKey, { key, permissions }, checker);

  it("registers, grants, checks and lists orders.read and billing.invoices.lines.read", async () => {
    await c.permissions.call(
      PermissionService.method.registerPermissions,
      { service: "orders", permissions: [{ name: "orders.read", description: "Read orders" }, { name: "orders.write" }] },
      kw.adminKey,
    );
    await c.permissions.call(
      PermissionService.method.registerPermissions,
      { service: "billing", permissions: [{ name: "billing.read" }, { name: "billing.invoices.read" }, { name: "billing.invoices.lines.read" }] },
      kw.adminKey,
    );

    const listed = (await c.permissions.call(PermissionService.method.adminGetApiKeyPermissions, {}, kw.adminKey)).permissions;
    expect(listed.filter((p) => p.service === "orders").map((p) => p.name)).toEqual(["orders.read", "orders.write"]);

    const reader = await keyWithPermissions(kw, c, ["orders.read", "billing.invoices.*"]);
    expect((await check(reader.credentials, ["orders.read"])).code).toBe(CheckCode.VALID);
    expect((await check(reader.credentials, ["orders.write"])).code).toBe(CheckCode.PERMISSION_DENIED);
    expect((await check(reader.credentials, ["billing.invoices.lines.read"])).code).toBe(CheckCode.VALID);
    expect((await check(reader.credentials, ["billing.read"])).code).toBe(CheckCode.PERMISSION_DENIED);

    const billing = await keyWithPermissions(kw, c, ["billing.*"]);
    for (const p of ["billing.read", "billing.invoices.read", "billing.invoices.lines.read"]) {
      expect((await check(billing.credentials, [p])).code).toBe(CheckCode.VALID);
    }
  });

  it("refuses a one- or six-segment name with the rule that says two to five", async () => {
    for (const name of ["orders", "a.b.c.d.e.f"]) {
      const refused = c.permissions.call(PermissionService.method.registerPermissions, { service: name.split(".")[0]!, permissions: [{ name }] }, kw.adminKey);
      await expect(refused).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
      await expect(refused).rejects.toThrow(/two to five/);
    }
    const badGrant = c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("p"), permissions: ["orders.*.read"] }, kw.adminKey);
    await expect(badGrant).rejects.toThrow(/two to five segments/);
  });
});
