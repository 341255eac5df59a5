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
import { Changes } from "./changes.js";
import { listFlag, oneCall, positional, requiredFlag, stringFlag, type Command } from "./command.js";
import { LIMIT_FLAGS, rateLimits, rateLimitsText } from "./limits.js";
import { fields, table, time } from "./output.js";
import { everyPage } from "./pages.js";
import { count } from "./values.js";

function policyBlock(p: Policy): string[] {
  return fields([
    ["id", p.id],
    ["name", p.name],
    ["description", p.description],
    ["permissions", p.permissions.join(", ") || "(none)"],
    ["rate limits", rateLimitsText(p.rateLimits)],
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
  summary: "List policies, by name (every page unless --limit).",
  flags: {
    "name-contains": { type: "string", value: "TEXT", help: "only policies whose name contains this text" },
    limit: { type: "string", value: "N", help: "at most N policies" },
  },
  async run(session, values, args) {
    positional(args, []);
    const nameContains = stringFlag(values, "name-contains") ?? "";
    const client = await session.client(PolicyService);
    const { items: policies, nextPageToken } = await everyPage(count("limit", stringFlag(values, "limit")), async (pageSize, pageToken) => {
      const page = await client.adminGetApiKeyPolicies({ pageSize, pageToken, nameContains });
      return { items: page.policies, nextPageToken: page.nextPageToken };
    });
    session.answer(AdminGetApiKeyPoliciesResponseSchema, create(AdminGetApiKeyPoliciesResponseSchema, { policies, nextPageToken }), () =>
      table(
        ["ID", "NAME", "KEYS", "PERMISSIONS"],
        policies.map((p) => [p.id, p.name, String(p.apiKeyCount), p.permissions.join(",")]),
      ),
    );
  },
};

const get = oneCall({
  path: ["policies", "get"],
  summary: "Show one policy, with how many keys are bound to it.",
  args: "ID",
  service: PolicyService,
  answer: AdminGetApiKeyPolicyResponseSchema,
  call: (policies, id) => policies.adminGetApiKeyPolicy({ id }),
  lines: (res) => policyBlock(res.policy!),
});

const createPolicy: Command = {
  path: ["policies", "create"],
  summary: "Create a policy from registered permissions and patterns over them.",
  flags: {
    name: { type: "string", value: "NAME", help: "unique name (required)" },
    description: { type: "string", value: "TEXT", help: "what the policy is for" },
    permission: PERMISSION_FLAG,
    ...LIMIT_FLAGS,
  },
  async run(session, values, args) {
    positional(args, []);
    const policies = await session.client(PolicyService);
    const res = await policies.adminCreateApiKeyPolicy({
      name: requiredFlag(values, "name"),
      description: stringFlag(values, "description") ?? "",
      permissions: listFlag(values, "permission"),
      rateLimits: rateLimits(values),
    });
    session.answer(AdminCreateApiKeyPolicyResponseSchema, res, () => policyBlock(res.policy!));
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
    ...LIMIT_FLAGS,
    "clear-rate-limits": { type: "boolean", help: "no rate limit for the keys on this policy (but their own)" },
  },
  notes: ["--permission and --rate-limit replace the policy's whole list."],
  async run(session, values, args) {
    const [id] = positional(args, ["ID"]);
    const policy = create(PolicySchema, { id });
    const changes = new Changes(values);
    changes.set(stringFlag(values, "name"), "name", (name) => (policy.name = name));
    changes.set(stringFlag(values, "description"), "description", (description) => (policy.description = description));
    changes.replaced("permission", "clear-permissions", "permissions", () => (policy.permissions = listFlag(values, "permission")));
    changes.replaced("rate-limit", "clear-rate-limits", "rate_limits", () => (policy.rateLimits = rateLimits(values)));
    const updateMask = changes.mask();
    const policies = await session.client(PolicyService);
    const res = await policies.adminUpdateApiKeyPolicy({ policy, updateMask });
    session.answer(AdminUpdateApiKeyPolicyResponseSchema, res, () => policyBlock(res.policy!));
  },
};

const remove = oneCall({
  path: ["policies", "delete"],
  summary: "Delete a policy and every key bound to it.",
  args: "ID",
  notes: ["`keyward policies get ID` shows how many keys would go with it."],
  service: PolicyService,
  answer: AdminDeleteApiKeyPolicyResponseSchema,
  call: (policies, id) => policies.adminDeleteApiKeyPolicy({ id }),
  lines: (res, id) => [`Deleted policy ${id} and ${res.deletedApiKeyCount} key(s) bound to it.`],
});

export const POLICY_COMMANDS: Command[] = [list, get, createPolicy, update, remove];
