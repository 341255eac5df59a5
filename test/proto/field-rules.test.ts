// The protovalidate rules declared in proto/keyward/v1, run by the same
// validator the server uses: each bound is accepted at the limit and refused one
// past it, naming the field and the rule.
import { create, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  AdminCreateApiKeyRequestSchema,
  AdminListApiKeysRequestSchema,
  AdminRotateApiKeyRequestSchema,
  AdminUpdateApiKeyRequestSchema,
  ConstraintType,
} from "../../gen/keyward/v1/api_keys_pb.js";
import { AdminListAuditEventsRequestSchema } from "../../gen/keyward/v1/audit_pb.js";
import { CheckKeyRequestSchema } from "../../gen/keyward/v1/check_pb.js";
import { RegisterPermissionsRequestSchema } from "../../gen/keyward/v1/permissions_pb.js";
import {
  AdminCreateApiKeyPolicyRequestSchema,
  AdminDeleteApiKeyPolicyRequestSchema,
  AdminUpdateApiKeyPolicyRequestSchema,
} from "../../gen/keyward/v1/policies_pb.js";
import { requestValidator } from "../../src/transport/interceptors.js";

const validator = requestValidator();

/** "field: message [rule]" for each violation, or [] when the message is valid. */
function violations<Desc extends DescMessage>(schema: Desc, init: MessageInitShape<Desc>): string[] {
  const result = validator.validate(schema, create(schema, init));
  if (result.kind === "error") throw result.error;
  return result.kind === "valid" ? [] : result.violations.map(String);
}

const future = { seconds: 4_000_000_000n };
type KeyInit = MessageInitShape<typeof AdminCreateApiKeyRequestSchema>;
/** A well-formed id (16 letters and digits). */
const ID = "AAAAAAAAAAAAAAAA";
const key = (over: Omit<KeyInit, "$typeName">): KeyInit => ({ name: "k", policyId: ID, expireTime: future, ...over });

describe("names (policy and key names)", () => {
  const policy = (name: string) => violations(AdminCreateApiKeyPolicyRequestSchema, { name });
  it.each([
    ["a single character", "a"],
    ["words with inner spaces", "billing reader"],
    ["100 characters", "n".repeat(100)],
    ["100 astral characters (counted as characters, not UTF-16 units)", "😀".repeat(100)],
    ["non-ASCII letters", "Überweisung Zürich"],
  ])("accepts %s", (_what, name) => {
    expect(policy(name)).toEqual([]);
    expect(violations(AdminCreateApiKeyRequestSchema, key({ name }))).toEqual([]);
  });

  it.each([
    ["empty", "", "name: value is required [required]"],
    ["only spaces", "   ", "name: is required [keyward.display_name]"],
    ["only a no-break space", "\u00a0", "name: is required [keyward.display_name]"],
    ["101 characters", "n".repeat(101), "name: must be at most 100 characters [string.max_len]"],
    ["101 astral characters", "😀".repeat(101), "name: must be at most 100 characters [string.max_len]"],
    ["a newline", "billing\nreader", "name: must not contain control characters [keyward.display_name]"],
    ["a tab", "billing\treader", "name: must not contain control characters [keyward.display_name]"],
    ["a NUL", "billing\u0000", "name: must not contain control characters [keyward.display_name]"],
    ["DEL", "billing\u007f", "name: must not contain control characters [keyward.display_name]"],
    ["a C1 control (NEL)", "billing\u0085reader", "name: must not contain control characters [keyward.display_name]"],
    ["a leading space", " billing", "name: must not start or end with spaces [keyward.display_name]"],
    ["a trailing no-break space", "billing\u00a0", "name: must not start or end with spaces [keyward.display_name]"],
  ])("refuses %s, naming the field and the rule", (_what, name, expected) => {
    expect(policy(name)).toEqual([expected]);
    expect(violations(AdminCreateApiKeyRequestSchema, key({ name }))).toEqual([expected]);
  });

  it("in an update, applies only when the mask names the field, and then a name is required", () => {
    const update = (name: string, paths: string[]) => violations(AdminUpdateApiKeyPolicyRequestSchema, { policy: { id: ID, name }, updateMask: { paths } });
    expect(update("", ["description"])).toEqual([]);
    expect(update("", [])).toEqual([]);
    expect(update("", ["name"])).toEqual(["policy.name: is required when update_mask names it [keyward.update.name_required]"]);
    expect(update("x\u0007", [])).toEqual(["policy.name: must not contain control characters [keyward.display_name]"]);
    const keyUpdate = (apiKey: { name?: string; policyId?: string }, paths: string[]) =>
      violations(AdminUpdateApiKeyRequestSchema, { apiKey: { id: ID, ...apiKey }, updateMask: { paths } });
    expect(keyUpdate({}, ["expire_time"])).toEqual([]);
    expect(keyUpdate({}, ["name", "policy_id"])).toEqual([
      "api_key.name: is required when update_mask names it [keyward.update.name_required]",
      "api_key.policy_id: is required when update_mask names it [keyward.update.policy_id_required]",
    ]);
    expect(keyUpdate({ name: " x" }, ["name"])).toEqual(["api_key.name: must not start or end with spaces [keyward.display_name]"]);
  });
});

describe("descriptions", () => {
  const description = (text: string) => violations(AdminCreateApiKeyPolicyRequestSchema, { name: "p", description: text });
  it.each([
    ["empty", ""],
    ["1000 characters", "d".repeat(1_000)],
    ["tabs and newlines", "line one\n\tline two"],
  ])("accepts %s", (_what, text) => {
    expect(description(text)).toEqual([]);
  });

  it.each([
    ["1001 characters", "d".repeat(1_001), "description: must be at most 1000 characters [string.max_len]"],
    ["a NUL", "text\u0000", "description: must not contain control characters [keyward.free_text]"],
    ["an escape sequence", "text\u001b[31m", "description: must not contain control characters [keyward.free_text]"],
    ["a C1 control", "text\u009b", "description: must not contain control characters [keyward.free_text]"],
  ])("refuses %s", (_what, text, expected) => {
    expect(description(text)).toEqual([expected]);
  });

  it("applies to registered permission descriptions too", () => {
    expect(violations(RegisterPermissionsRequestSchema, { service: "s", permissions: [{ name: "s.a.b", description: "\u001b" }] })).toEqual([
      "permissions[0].description: must not contain control characters [keyward.free_text]",
    ]);
  });
});

describe("ids", () => {
  it("are required where they name something", () => {
    expect(violations(AdminDeleteApiKeyPolicyRequestSchema, { id: "" })).toEqual(["id: value is required [required]"]);
    expect(violations(AdminCreateApiKeyRequestSchema, key({ policyId: "" }))).toEqual(["policy_id: value is required [required]"]);
  });

  const ID_RULE = "must be an id: 16 letters and digits [keyward.id]";
  // Every id field of every request, and how to set it.
  const idFields: Array<[string, (id: string) => string[]]> = [
    ["id", (id) => violations(AdminDeleteApiKeyPolicyRequestSchema, { id })],
    ["id", (id) => violations(AdminRotateApiKeyRequestSchema, { id })],
    ["policy_id", (id) => violations(AdminCreateApiKeyRequestSchema, key({ policyId: id }))],
    ["policy_id", (id) => violations(AdminListApiKeysRequestSchema, { policyId: id })],
    ["api_key.id", (id) => violations(AdminUpdateApiKeyRequestSchema, { apiKey: { id } })],
    ["api_key.policy_id", (id) => violations(AdminUpdateApiKeyRequestSchema, { apiKey: { id: ID, policyId: id } })],
    ["policy.id", (id) => violations(AdminUpdateApiKeyPolicyRequestSchema, { policy: { id } })],
    ["actor_key_id", (id) => violations(AdminListAuditEventsRequestSchema, { actorKeyId: id })],
  ];

  it.each(idFields)("%s: accepts 16 letters and digits", (_field, check) => {
    expect(check("0aZ9bY8cX7dW6eV5")).toEqual([]);
  });

  it.each([
    ["15 characters", "A".repeat(15)],
    ["17 characters", "A".repeat(17)],
    ["a NUL", "AAAAAAAAAAAAAAA\u0000"],
    ["a dash", "AAAAAAAA-AAAAAAA"],
    ["credentials pasted in place of an id", "kw_AAAAAAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
  ])("refuses %s in every id field, naming it", (_what, id) => {
    for (const [field, check] of idFields) expect(check(id)).toEqual([`${field}: ${ID_RULE}`]);
  });

  it("refuses 65 characters by length as well", () => {
    expect(violations(AdminDeleteApiKeyPolicyRequestSchema, { id: "i".repeat(65) })).toEqual([
      "id: must be at most 64 characters [string.max_len]",
      `id: ${ID_RULE}`,
    ]);
  });
});

describe("control characters in the other admin strings", () => {
  it.each<[string, () => string[]]>([
    ["constraints[0].value", () => violations(AdminCreateApiKeyRequestSchema, key({ constraints: [{ type: ConstraintType.REGEX, value: "/a\u0000" }] }))],
    ["allowed_subnets[0]", () => violations(AdminCreateApiKeyRequestSchema, key({ allowedSubnets: ["10.0.0.0/8\u0000"] }))],
    ["permissions[0]", () => violations(AdminCreateApiKeyPolicyRequestSchema, { name: "p", permissions: ["a.b.c\u0000"] })],
    ["service", () => violations(RegisterPermissionsRequestSchema, { service: "s\u0000" })],
    ["permissions[0].name", () => violations(RegisterPermissionsRequestSchema, { service: "s", permissions: [{ name: "s.a.b\u0000" }] })],
    ["target", () => violations(AdminListAuditEventsRequestSchema, { target: "api_keys/\u0000" })],
  ])("%s refuses a NUL", (field, check) => {
    expect(check()).toEqual([`${field}: must not contain control characters [keyward.free_text]`]);
  });

  it("page tokens are base64url", () => {
    expect(violations(AdminListApiKeysRequestSchema, { pageToken: "eyJ0Ijoi-_" })).toEqual([]);
    for (const pageToken of ["a\u0000", "a b", "a+/="]) {
      expect(violations(AdminListAuditEventsRequestSchema, { pageToken })).toEqual(["page_token: does not match regex pattern `^[A-Za-z0-9_-]*$` [string.pattern]"]);
    }
  });
});

describe("counts and lengths", () => {
  const many = (n: number, value: string) => Array.from({ length: n }, () => value);
  it.each<[string, () => string[], () => string[], string]>([
    [
      "grants per policy: 500",
      () => violations(AdminCreateApiKeyPolicyRequestSchema, { name: "p", permissions: many(500, "a.b.c") }),
      () => violations(AdminCreateApiKeyPolicyRequestSchema, { name: "p", permissions: many(501, "a.b.c") }),
      "permissions: must contain no more than 500 item(s) [repeated.max_items]",
    ],
    [
      "subnets per key: 32",
      () => violations(AdminCreateApiKeyRequestSchema, key({ allowedSubnets: many(32, "10.0.0.0/8") })),
      () => violations(AdminCreateApiKeyRequestSchema, key({ allowedSubnets: many(33, "10.0.0.0/8") })),
      "allowed_subnets: must contain no more than 32 item(s) [repeated.max_items]",
    ],
    [
      "constraints per key: 20",
      () => violations(AdminCreateApiKeyRequestSchema, key({ constraints: many(20, "/x").map((value) => ({ type: ConstraintType.PREFIX, value })) })),
      () => violations(AdminCreateApiKeyRequestSchema, key({ constraints: many(21, "/x").map((value) => ({ type: ConstraintType.PREFIX, value })) })),
      "constraints: must contain no more than 20 item(s) [repeated.max_items]",
    ],
    [
      "constraint value: 512 characters",
      () => violations(AdminCreateApiKeyRequestSchema, key({ constraints: [{ type: ConstraintType.PREFIX, value: `/${"x".repeat(511)}` }] })),
      () => violations(AdminCreateApiKeyRequestSchema, key({ constraints: [{ type: ConstraintType.PREFIX, value: `/${"x".repeat(512)}` }] })),
      "constraints[0].value: must be at most 512 characters [string.max_len]",
    ],
    [
      "permissions per registration: 1000",
      () => violations(RegisterPermissionsRequestSchema, { service: "s", permissions: many(1_000, "s.a.b").map((name) => ({ name })) }),
      () => violations(RegisterPermissionsRequestSchema, { service: "s", permissions: many(1_001, "s.a.b").map((name) => ({ name })) }),
      "permissions: must contain no more than 1000 item(s) [repeated.max_items]",
    ],
    [
      "permissions per check: 100",
      () => violations(CheckKeyRequestSchema, { permissions: many(100, "a.b.c") }),
      () => violations(CheckKeyRequestSchema, { permissions: many(101, "a.b.c") }),
      "permissions: must contain no more than 100 item(s) [repeated.max_items]",
    ],
    [
      "presented key: 256 characters",
      () => violations(CheckKeyRequestSchema, { key: "k".repeat(256) }),
      () => violations(CheckKeyRequestSchema, { key: "k".repeat(257) }),
      "key: must be at most 256 characters [string.max_len]",
    ],
    [
      "checked path: 8192 characters",
      () => violations(CheckKeyRequestSchema, { path: `/${"p".repeat(8_191)}` }),
      () => violations(CheckKeyRequestSchema, { path: `/${"p".repeat(8_192)}` }),
      "path: must be at most 8192 characters [string.max_len]",
    ],
    [
      "page token: 1024 characters",
      () => violations(AdminListApiKeysRequestSchema, { pageToken: "t".repeat(1_024) }),
      () => violations(AdminListAuditEventsRequestSchema, { pageToken: "t".repeat(1_025) }),
      "page_token: must be at most 1024 characters [string.max_len]",
    ],
  ])("%s", (_what, atLimit, pastLimit, expected) => {
    expect(atLimit()).toEqual([]);
    expect(pastLimit()).toEqual([expected]);
  });
});

describe("numbers, enums, durations and times", () => {
  it("refuses a negative page size, a negative duration and an unset or unknown constraint type", () => {
    expect(violations(AdminListApiKeysRequestSchema, { pageSize: 5_000 })).toEqual([]);
    expect(violations(AdminListApiKeysRequestSchema, { pageSize: -1 })).toEqual(["page_size: must be greater than or equal to 0 [int32.gte]"]);
    expect(violations(AdminListAuditEventsRequestSchema, { pageSize: -1 })).toEqual(["page_size: must be greater than or equal to 0 [int32.gte]"]);
    // At most 100 years, so that now + the duration is a date Postgres holds.
    const durationRule = "must be greater than or equal to 0s and less than or equal to 3155760000s [duration.gte_lte]";
    for (const seconds of [-1n, 3_155_760_001n, 315_576_000_000n]) {
      expect(violations(AdminListApiKeysRequestSchema, { expiringWithin: { seconds } })).toEqual([`expiring_within: ${durationRule}`]);
      expect(violations(AdminRotateApiKeyRequestSchema, { id: ID, overlap: { seconds } })).toEqual([`overlap: ${durationRule}`]);
    }
    expect(violations(AdminListApiKeysRequestSchema, { expiringWithin: { seconds: 3_155_760_000n } })).toEqual([]);
    expect(violations(AdminCreateApiKeyRequestSchema, key({ constraints: [{ value: "/x" }] }))).toEqual(["constraints[0].type: value is required [required]"]);
    expect(violations(AdminCreateApiKeyRequestSchema, key({ constraints: [{ type: 9 as ConstraintType, value: "/x" }] }))).toEqual([
      "constraints[0].type: value must be one of the defined enum values [enum.defined_only]",
    ]);
    // Exactly one of expire_time and ttl; a ttl is positive and at most 100 years.
    const EXPIRY_RULE = "[keyward.create.expiry]";
    expect(violations(AdminCreateApiKeyRequestSchema, key({ expireTime: undefined }))).toEqual([`expire_time: is required (or ttl, a lifetime such as '2592000s') ${EXPIRY_RULE}`]);
    expect(violations(AdminCreateApiKeyRequestSchema, key({ ttl: { seconds: 60n } }))).toEqual([`expire_time, ttl: give one of them, not both ${EXPIRY_RULE}`]);
    expect(violations(AdminCreateApiKeyRequestSchema, key({ expireTime: undefined, ttl: { seconds: 3_155_760_000n } }))).toEqual([]);
    expect(violations(AdminCreateApiKeyRequestSchema, key({ expireTime: undefined, ttl: { nanos: 1 } }))).toEqual([]);
    const ttlRule = "ttl: must be greater than 0s and less than or equal to 3155760000s [duration.gt_lte]";
    for (const ttl of [{}, { seconds: -1n }, { seconds: 3_155_760_001n }]) {
      expect(violations(AdminCreateApiKeyRequestSchema, key({ expireTime: undefined, ttl }))).toEqual([ttlRule]);
    }
  });

  it("refuses an audit time range that ends before it starts", () => {
    expect(violations(AdminListAuditEventsRequestSchema, { startTime: { seconds: 10n }, endTime: { seconds: 11n } })).toEqual([]);
    expect(violations(AdminListAuditEventsRequestSchema, { endTime: { seconds: 11n } })).toEqual([]);
    expect(violations(AdminListAuditEventsRequestSchema, { startTime: { seconds: 10n }, endTime: { seconds: 10n } })).toEqual([
      "end_time: must be after start_time [keyward.audit.time_range]",
    ]);
  });

  it("refuses audit times outside protobuf's range (years 1 to 9999), which no Date or Postgres column could hold", () => {
    const rule = "must be greater than or equal to 0001-01-01T00:00:00Z and less than or equal to 9999-12-31T23:59:59Z [timestamp.gte_lte]";
    expect(violations(AdminListAuditEventsRequestSchema, { startTime: { seconds: 253_402_300_799n } })).toEqual([]);
    expect(violations(AdminListAuditEventsRequestSchema, { startTime: { seconds: 253_402_300_800n } })).toEqual([`start_time: ${rule}`]);
    expect(violations(AdminListAuditEventsRequestSchema, { endTime: { seconds: -62_135_596_801n } })).toEqual([`end_time: ${rule}`]);
  });
});
