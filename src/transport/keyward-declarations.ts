// Keyward's own permissions, with their descriptions, as its services declare
// them in proto options (keyward.v1.permission). Registered under `keyward` at
// every start, so the list Keyward registers is the list its protos declare.
import { getOption } from "@bufbuild/protobuf";
import { permission } from "../../gen/keyward/v1/options_pb.js";
import type { PermissionDefinition } from "../domain/model.js";
import { KeywardPermission } from "../domain/keyward-permissions.js";
import { KEYWARD_SERVICES, declaredRequirement, AUTHENTICATED, PUBLIC } from "./authorization.js";

export function keywardPermissionDefinitions(): PermissionDefinition[] {
  const declared = KEYWARD_SERVICES.flatMap((s) => getOption(s, permission)).map((p) => ({ name: p.name, description: p.description }));
  const names = new Set(declared.map((d) => d.name));
  if (names.size !== declared.length) throw new Error("a Keyward permission is declared twice in the protos");
  // Every permission the code names, and every one an RPC requires, must be declared with a description
  // (an RPC open to any key, or needing none, requires no permission).
  const required = KEYWARD_SERVICES.flatMap((s) => s.methods.map(declaredRequirement)).filter((r) => r !== undefined && r !== AUTHENTICATED && r !== PUBLIC);
  for (const name of [...Object.values(KeywardPermission), ...required]) {
    if (!names.has(name)) throw new Error(`Keyward's protos do not declare the permission "${name}" (keyward.v1.permission)`);
  }
  return declared;
}
