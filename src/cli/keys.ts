// keyward keys list|get|create|update|rotate|retire|delete
import { create } from "@bufbuild/protobuf";
import {
  AdminCreateApiKeyResponseSchema,
  AdminDeleteApiKeyResponseSchema,
  AdminGetApiKeyResponseSchema,
  AdminListApiKeysResponseSchema,
  AdminRetireApiKeyResponseSchema,
  AdminRotateApiKeyResponseSchema,
  AdminUpdateApiKeyResponseSchema,
  ApiKeySchema,
  ApiKeyOrder,
  ApiKeyService,
  ApiKeyState,
  ConstraintSchema,
  ConstraintType,
  type ApiKey,
  type Constraint,
} from "../../gen/keyward/v1/api_keys_pb.js";
import { Changes } from "./changes.js";
import { listFlag, oneCall, positional, requiredFlag, stringFlag, type Command, type Values } from "./command.js";
import { UsageError } from "./exit-codes.js";
import { fields, table, time } from "./output.js";
import { CREDIT_FLAGS, LABEL_FLAGS, LIMIT_FLAGS, credits, creditsText, labels, rateLimits, rateLimitsText } from "./limits.js";
import { everyPage } from "./pages.js";
import { count, duration, expiry } from "./values.js";

const STATES: Record<string, ApiKeyState> = { active: ApiKeyState.ACTIVE, retired: ApiKeyState.RETIRED };
const stateName = (s: ApiKeyState): string => (s === ApiKeyState.ACTIVE ? "active" : s === ApiKeyState.RETIRED ? "retired" : "");

const CONSTRAINT_TYPES: Record<string, ConstraintType> = {
  exact: ConstraintType.EXACT,
  prefix: ConstraintType.PREFIX,
  regex: ConstraintType.REGEX,
  verb: ConstraintType.VERB,
};
const constraintText = (c: Constraint): string =>
  `${Object.entries(CONSTRAINT_TYPES).find(([, t]) => t === c.type)?.[0] ?? "?"}:${c.value}`;

/** `prefix:/jobs`, `exact:/status`, `regex:^/v1/.*$`, `verb:GET`. */
function constraints(values: Values): Constraint[] {
  return listFlag(values, "constraint").map((text) => {
    const colon = text.indexOf(":");
    const type = CONSTRAINT_TYPES[text.slice(0, colon)];
    if (colon < 0 || type === undefined) throw new UsageError(`--constraint: "${text}" is not TYPE:VALUE with TYPE exact, prefix, regex or verb`);
    return create(ConstraintSchema, { type, value: text.slice(colon + 1) });
  });
}

function keyBlock(k: ApiKey, more: [string, string][] = []): string[] {
  return fields([
    ["id", k.id],
    ["name", k.name],
    ["policy", k.policyId],
    ["state", stateName(k.state)],
    ["service", k.service],
    ["expires", time(k.expireTime)],
    ["subnets", k.allowedSubnets.join(", ")],
    ["constraints", k.constraints.map(constraintText).join(", ")],
    ["rate limits", rateLimitsText(k.rateLimits)],
    ["credits", creditsText(k.credits)],
    ["labels", Object.entries(k.labels).map(([key, value]) => `${key}=${value}`).join(", ")],
    ["created", time(k.createTime)],
    ["creator", k.creatorKeyId],
    ["updated", time(k.updateTime)],
    ["last used", time(k.lastUsedTime)],
    ["retired", time(k.retireTime)],
    ["retirer", k.retirerKeyId],
    ...more,
  ]);
}

/** The credentials, marked so nobody mistakes them for a log line; stdout only. */
function credentialsBlock(credentials: string): string[] {
  return ["", "Credentials (shown this once; Keyward keeps only a hash, store them now):", credentials];
}

const EXPIRY_FLAGS = {
  ttl: { type: "string", value: "DURATION", help: "lifetime from now, e.g. 90d, 12h" },
  expires: { type: "string", value: "DATE", help: "expiry as ISO 8601, e.g. 2027-01-01 or 2027-01-01T12:00:00Z" },
} as const;

const SCOPE_FLAGS = {
  service: { type: "string", value: "NAME", help: "the service the key belongs to" },
  subnet: { type: "string", multiple: true, value: "CIDR", help: "a client network the key may be used from" },
  constraint: { type: "string", multiple: true, value: "TYPE:VALUE", help: "a request the key may be used for: exact:/path, prefix:/path, regex:RE, verb:GET" },
  ...LIMIT_FLAGS,
  ...CREDIT_FLAGS,
  ...LABEL_FLAGS,
} as const;

const ORDERS: Record<string, ApiKeyOrder> = {
  name: ApiKeyOrder.NAME,
  "expire-time": ApiKeyOrder.EXPIRE_TIME,
  "last-used-time": ApiKeyOrder.LAST_USED_TIME,
  "create-time": ApiKeyOrder.CREATE_TIME,
};

const list: Command = {
  path: ["keys", "list"],
  summary: "List API keys, oldest first unless --order-by says otherwise (every page unless --limit).",
  flags: {
    policy: { type: "string", value: "ID", help: "only keys on this policy" },
    state: { type: "string", value: "STATE", help: "only keys in this state: active or retired" },
    "expiring-within": { type: "string", value: "DURATION", help: "only keys expiring within this long (expired ones included), e.g. 14d" },
    "idle-for": { type: "string", value: "DURATION", help: "only keys unused for at least this long (never used counts from creation), e.g. 30d" },
    service: { type: "string", value: "NAME", help: "only keys of this service" },
    "name-contains": { type: "string", value: "TEXT", help: "only keys whose name contains this text" },
    label: { type: "string", multiple: true, value: "KEY[=VALUE]", help: "only keys with this label, or this label and value (all must match)" },
    "order-by": { type: "string", value: "FIELD", help: "sort by name, expire-time, last-used-time or create-time" },
    descending: { type: "boolean", help: "with --order-by: largest first" },
    limit: { type: "string", value: "N", help: "at most N keys" },
  },
  async run(session, values, args) {
    positional(args, []);
    const state = stringFlag(values, "state");
    if (state !== undefined && STATES[state] === undefined) throw new UsageError(`--state: "${state}" is not active or retired`);
    const order = stringFlag(values, "order-by");
    if (order !== undefined && ORDERS[order] === undefined) throw new UsageError(`--order-by: "${order}" is not ${Object.keys(ORDERS).join(", ")}`);
    if (values.descending === true && order === undefined) throw new UsageError("--descending needs --order-by");
    const within = stringFlag(values, "expiring-within");
    const idle = stringFlag(values, "idle-for");
    const filter = {
      policyId: stringFlag(values, "policy") ?? "",
      state: state === undefined ? ApiKeyState.UNSPECIFIED : STATES[state],
      ...(within !== undefined ? { expiringWithin: duration("expiring-within", within) } : {}),
      ...(idle !== undefined ? { idleFor: duration("idle-for", idle) } : {}),
      service: stringFlag(values, "service") ?? "",
      nameContains: stringFlag(values, "name-contains") ?? "",
      label: listFlag(values, "label"),
      orderBy: order === undefined ? ApiKeyOrder.UNSPECIFIED : ORDERS[order],
      descending: values.descending === true,
    };
    const client = await session.client(ApiKeyService);
    const { items: keys, nextPageToken } = await everyPage(count("limit", stringFlag(values, "limit")), async (pageSize, pageToken) => {
      const page = await client.adminListApiKeys({ ...filter, pageSize, pageToken });
      return { items: page.apiKeys, nextPageToken: page.nextPageToken };
    });
    session.answer(AdminListApiKeysResponseSchema, create(AdminListApiKeysResponseSchema, { apiKeys: keys, nextPageToken }), () =>
      table(
        ["ID", "NAME", "POLICY", "STATE", "EXPIRES", "LAST USED", "SERVICE"],
        keys.map((k) => [k.id, k.name, k.policyId, stateName(k.state), time(k.expireTime), time(k.lastUsedTime), k.service]),
      ),
    );
  },
};

const get = oneCall({
  path: ["keys", "get"],
  summary: "Show one API key (never its secret).",
  args: "ID",
  service: ApiKeyService,
  answer: AdminGetApiKeyResponseSchema,
  call: (keys, id) => keys.adminGetApiKey({ id }),
  lines: (res) => keyBlock(res.apiKey!),
});

const createKey: Command = {
  path: ["keys", "create"],
  summary: "Create an API key on a policy and print its credentials, the only time they are shown.",
  flags: {
    name: { type: "string", value: "NAME", help: "unique name (required)" },
    policy: { type: "string", value: "ID", help: "the policy whose permissions the key holds (required)" },
    ...EXPIRY_FLAGS,
    ...SCOPE_FLAGS,
  },
  notes: ["One of --ttl or --expires is required.", "With --json the credentials are the document's \"credentials\" field: keyward keys create … --json | jq -r .credentials"],
  async run(session, values, args) {
    positional(args, []);
    const name = requiredFlag(values, "name");
    const policyId = requiredFlag(values, "policy");
    const expireTime = expiry(values);
    if (expireTime === undefined) throw new UsageError("--ttl or --expires is required");
    const request = {
      name,
      policyId,
      expireTime,
      service: stringFlag(values, "service") ?? "",
      allowedSubnets: listFlag(values, "subnet"),
      constraints: constraints(values),
      rateLimits: rateLimits(values),
      credits: credits(values),
      labels: labels(values),
    };
    const keys = await session.client(ApiKeyService);
    const res = await keys.adminCreateApiKey(request);
    session.answer(AdminCreateApiKeyResponseSchema, res, () => [...keyBlock(res.apiKey!), ...credentialsBlock(res.credentials)]);
  },
};

const update: Command = {
  path: ["keys", "update"],
  summary: "Change an API key's name, policy, expiry, scope, limits or labels; only the fields given change.",
  args: "ID",
  flags: {
    name: { type: "string", value: "NAME", help: "new name" },
    policy: { type: "string", value: "ID", help: "new policy" },
    ...EXPIRY_FLAGS,
    ...SCOPE_FLAGS,
    "clear-subnets": { type: "boolean", help: "allow any client network" },
    "clear-constraints": { type: "boolean", help: "allow any request" },
    "clear-service": { type: "boolean", help: "the key belongs to no service" },
    "clear-rate-limits": { type: "boolean", help: "no rate limit of the key's own (its policy's apply)" },
    "clear-credits": { type: "boolean", help: "no credits: unlimited checks" },
    "clear-labels": { type: "boolean", help: "no labels" },
  },
  notes: ["--subnet, --constraint, --rate-limit and --label replace the key's whole list; --credits sets the credits left."],
  async run(session, values, args) {
    const [id] = positional(args, ["ID"]);
    const key = create(ApiKeySchema, { id });
    const newCredits = credits(values);
    const changes = new Changes(values);
    changes.set(stringFlag(values, "name"), "name", (name) => (key.name = name));
    changes.set(stringFlag(values, "policy"), "policy_id", (policy) => (key.policyId = policy));
    changes.set(expiry(values), "expire_time", (expireTime) => (key.expireTime = expireTime));
    changes.replaced("subnet", "clear-subnets", "allowed_subnets", () => (key.allowedSubnets = listFlag(values, "subnet")));
    changes.replaced("constraint", "clear-constraints", "constraints", () => (key.constraints = constraints(values)));
    changes.replaced("service", "clear-service", "service", () => (key.service = stringFlag(values, "service") ?? ""));
    changes.replaced("rate-limit", "clear-rate-limits", "rate_limits", () => (key.rateLimits = rateLimits(values)));
    changes.replaced("credits", "clear-credits", "credits", () => (key.credits = newCredits));
    changes.replaced("label", "clear-labels", "labels", () => (key.labels = labels(values)));
    const updateMask = changes.mask();
    const keys = await session.client(ApiKeyService);
    const res = await keys.adminUpdateApiKey({ apiKey: key, updateMask });
    session.answer(AdminUpdateApiKeyResponseSchema, res, () => keyBlock(res.apiKey!));
  },
};

const rotate: Command = {
  path: ["keys", "rotate"],
  summary: "Issue a new secret for an API key and print the new credentials, the only time they are shown.",
  args: "ID",
  flags: {
    overlap: { type: "string", value: "DURATION", help: "how long the previous secret keeps working, e.g. 1h (default: not at all)" },
  },
  async run(session, values, args) {
    const [id] = positional(args, ["ID"]);
    const overlap = stringFlag(values, "overlap");
    const keys = await session.client(ApiKeyService);
    const res = await keys.adminRotateApiKey({ id, ...(overlap !== undefined ? { overlap: duration("overlap", overlap) } : {}) });
    session.answer(AdminRotateApiKeyResponseSchema, res, () => [
      ...keyBlock(res.apiKey!, [["previous secret", res.previousExpireTime ? `valid until ${time(res.previousExpireTime)}` : "no longer valid"]]),
      ...credentialsBlock(res.credentials),
    ]);
  },
};

const retire = oneCall({
  path: ["keys", "retire"],
  summary: "Revoke an API key at once and for good, keeping its record.",
  args: "ID",
  service: ApiKeyService,
  answer: AdminRetireApiKeyResponseSchema,
  call: (keys, id) => keys.adminRetireApiKey({ id }),
  lines: (res) => keyBlock(res.apiKey!),
});

const remove = oneCall({
  path: ["keys", "delete"],
  summary: "Delete an API key and its secrets.",
  args: "ID",
  service: ApiKeyService,
  // Empty: `{}` with --json.
  answer: AdminDeleteApiKeyResponseSchema,
  call: (keys, id) => keys.adminDeleteApiKey({ id }),
  lines: (_res, id) => [`Deleted API key ${id}.`],
});

export const KEY_COMMANDS: Command[] = [list, get, createKey, update, rotate, retire, remove];
