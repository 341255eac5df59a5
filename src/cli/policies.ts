// keyward policies list|get|create|update|delete
import { create } from "@bufbuild/protobuf";
import {
  AdminCreateApiKeyPolicyResponseSchema,
  AdminDeleteApiKeyPolicyResponseSchema,
  AdminGetApiKeyPoliciesResponseSchema,
  AdminGetApiKeyPolicyResponseSchema,
  AdminUpdateApiKeyPolicyResponseSchema,
  PolicySchema,
  PolicyService,
  type Policy,
} from "../../gen/keyward/v1/policies_pb.js";
import { listFlag, positional, requiredFlag, stringFlag, type Command } from "./command.js";
import { UsageError } from "./exit-codes.js";
import { fields, table, time } from "./output.js";

function policyBlock(p: Policy): string[] {
  return fields([
    ["id", p.id],
    ["name", p.name],
    ["description", p.description],
    ["permissions", p.permissions.join(", ") || "(none)"],
    ["keys", String(p.apiKeyCount)],
    ["created", time(p.createTime)],
    ["updated", time(p.updateTime)],
  ]);
}

const PERMISSION_FLAG = {
  type: "string",
  multiple: true,
  value: "NAME",
  help: "a permission (billing.invoices.read) or pattern (billing.*, *)",
} as const;

const list: Command = {
  path: ["policies", "list"],
  summary: "List every policy, by name.",
  flags: {},
  async run(session, _values, args) {
    positional(args, []);
    const policies = await session.client(PolicyService);
    const res = await policies.adminGetApiKeyPolicies({});
    if (session.json) return session.printJson(AdminGetApiKeyPoliciesResponseSchema, res);
    session.print(
      ...table(
        ["ID", "NAME", "KEYS", "PERMISSIONS"],
        res.policies.map((p) => [p.id, p.name, String(p.apiKeyCount), p.permissions.join(",")]),
      ),
    );
  },
};

const get: Command = {
  path: ["policies", "get"],
  summary: "Show one policy, with how many keys are bound to it.",
  args: "ID",
  flags: {},
  async run(session, _values, args) {
    const [id] = positional(args, ["ID"]);
    const policies = await session.client(PolicyService);
    const res = await policies.adminGetApiKeyPolicy({ id });
    if (session.json) return session.printJson(AdminGetApiKeyPolicyResponseSchema, res);
    session.print(...policyBlock(res.policy!));
  },
};

const createPolicy: Command = {
  path: ["policies", "create"],
  summary: "Create a policy from registered permissions and patterns over them.",
  flags: {
    name: { type: "string", value: "NAME", help: "unique name (required)" },
    description: { type: "string", value: "TEXT", help: "what the policy is for" },
    permission: PERMISSION_FLAG,
  },
  async run(session, values, args) {
    positional(args, []);
    const policies = await session.client(PolicyService);
    const res = await policies.adminCreateApiKeyPolicy({
      name: requiredFlag(values, "name"),
      description: stringFlag(values, "description") ?? "",
      permissions: listFlag(values, "permission"),
    });
    if (session.json) return session.printJson(AdminCreateApiKeyPolicyResponseSchema, res);
    session.print(...policyBlock(res.policy!));
  },
};

const update: Command = {
  path: ["policies", "update"],
  summary: "Change a policy; every key on it sees the change at once. Only the fields given change.",
  args: "ID",
  flags: {
    name: { type: "string", value: "NAME", help: "new name" },
    description: { type: "string", value: "TEXT", help: "new description" },
    permission: PERMISSION_FLAG,
    "clear-permissions": { type: "boolean", help: "leave the policy with no permission" },
  },
  notes: ["--permission replaces the policy's whole list."],
  async run(session, values, args) {
    const [id] = positional(args, ["ID"]);
    const policy = create(PolicySchema, { id });
    const paths: string[] = [];
    const name = stringFlag(values, "name");
    if (name !== undefined) (policy.name = name), paths.push("name");
    const description = stringFlag(values, "description");
    if (description !== undefined) (policy.description = description), paths.push("description");
    const permissions = listFlag(values, "permission");
    if (permissions.length > 0 && values["clear-permissions"] === true) throw new UsageError("give --permission or --clear-permissions, not both");
    if (permissions.length > 0 || values["clear-permissions"] === true) (policy.permissions = permissions), paths.push("permissions");
    if (paths.length === 0) throw new UsageError("nothing to change: give at least one of the flags");
    const policies = await session.client(PolicyService);
    const res = await policies.adminUpdateApiKeyPolicy({ policy, updateMask: { paths } });
    if (session.json) return session.printJson(AdminUpdateApiKeyPolicyResponseSchema, res);
    session.print(...policyBlock(res.policy!));
  },
};

const remove: Command = {
  path: ["policies", "delete"],
  summary: "Delete a policy and every key bound to it.",
  args: "ID",
  flags: {},
  notes: ["`keyward policies get ID` shows how many keys would go with it."],
  async run(session, _values, args) {
    const [id] = positional(args, ["ID"]);
    const policies = await session.client(PolicyService);
    const res = await policies.adminDeleteApiKeyPolicy({ id });
    if (session.json) return session.printJson(AdminDeleteApiKeyPolicyResponseSchema, res);
    session.print(`Deleted policy ${id} and ${res.deletedApiKeyCount} key(s) bound to it.`);
  },
};

export const POLICY_COMMANDS: Command[] = [list, get, createPolicy, update, remove];
