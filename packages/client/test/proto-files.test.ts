// Reading keyward.v1 options from .proto files with loadProtoServices: method
// options, the service default, described permissions (repeated), any_valid_key.
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ANY_VALID_KEY, declaredService, loadProtoServices, permissionsToRegister } from "../src/index.js";

const keywardProtos = new URL("../../../proto", import.meta.url).pathname;

describe("loadProtoServices", () => {
  it("reads every keyward.v1 option of a service's .proto file", () => {
    const dir = mkdtempSync(join(tmpdir(), "keyward-client-proto-"));
    mkdirSync(join(dir, "billing"));
    writeFileSync(
      join(dir, "billing/billing.proto"),
      `syntax = "proto3";
package billing;
import "keyward/v1/options.proto";
service Billing {
  option (keyward.v1.default_required_permissions) = "billing.read";
  option (keyward.v1.permission) = {name: "billing.read" description: "Read billing"};
  option (keyward.v1.permission) = {name: "billing.invoices.write" description: "Write invoices"};
  rpc Summary(M) returns (M);
  rpc WriteInvoice(M) returns (M) { option (keyward.v1.required_permissions) = "billing.invoices.write billing.read"; }
  rpc Ping(M) returns (M) { option (keyward.v1.any_valid_key) = true; }
  rpc Audit(M) returns (M) { option (keyward.v1.required_permissions) = "audit.events.read"; }
}
message M {}
`,
    );
    const service = loadProtoServices("billing/billing.proto", { includeDirs: [dir, keywardProtos] }).get("billing.Billing")!;
    const declared = declaredService(service);
    expect(declared.methods.map((m) => [m.path, m.requirement])).toEqual([
      ["/billing.Billing/Summary", ["billing.read"]],
      ["/billing.Billing/WriteInvoice", ["billing.invoices.write", "billing.read"]],
      ["/billing.Billing/Ping", ANY_VALID_KEY],
      ["/billing.Billing/Audit", ["audit.events.read"]],
    ]);
    // Only the service's own names are registered (another service's cannot be).
    expect(permissionsToRegister("billing", [service])).toEqual([
      { name: "billing.invoices.write", description: "Write invoices" },
      { name: "billing.read", description: "Read billing" },
    ]);
  });
});
