// The client's hand-written codec against Keyward's generated messages, for
// what usage limits (issue #20) add: every verdict Keyward's enum knows decodes
// to its own name (an unknown number would read as UNSPECIFIED, a refusal of
// the wrong kind), and `remaining` / `reset_time`, whose presence tells the
// client not to reuse a verdict.
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { CheckCode, CheckKeyResponseSchema } from "../../../gen/keyward/v1/check_pb.js";
import { outcomeOf } from "../src/client.js";
import { decodeCheckKeyResponse } from "../src/wire.js";

describe("the client's codec and outcomes for usage limits", () => {
  it("decodes every CheckCode Keyward declares by its name", () => {
    for (const [name, value] of Object.entries(CheckCode)) {
      if (typeof value !== "number") continue;
      const bytes = toBinary(CheckKeyResponseSchema, create(CheckKeyResponseSchema, { code: value }));
      expect(decodeCheckKeyResponse(bytes).code, name).toBe(name);
    }
  });

  it("decodes remaining (present at 0 too) and reset_time, and leaves them out for a key without limits", () => {
    const limited = create(CheckKeyResponseSchema, { valid: true, code: CheckCode.VALID, remaining: 0n, resetTime: timestampFromMs(1_800_000_000_500) });
    expect(decodeCheckKeyResponse(toBinary(CheckKeyResponseSchema, limited))).toMatchObject({ remaining: 0, resetTimeMs: 1_800_000_000_500 });
    const plain = decodeCheckKeyResponse(toBinary(CheckKeyResponseSchema, create(CheckKeyResponseSchema, { valid: true, code: CheckCode.VALID })));
    expect(plain.remaining).toBeUndefined();
    expect(plain.resetTimeMs).toBeUndefined();
  });

  it("refuses RATE_LIMITED and USAGE_EXCEEDED as limited, with whole seconds to wait when Keyward says when", () => {
    const now = 1_800_000_000_000;
    const at = (code: CheckCode, resetTimeMs?: number) =>
      outcomeOf(decodeCheckKeyResponse(toBinary(CheckKeyResponseSchema, create(CheckKeyResponseSchema, { code, remaining: 0n, resetTime: resetTimeMs === undefined ? undefined : timestampFromMs(resetTimeMs) }))), now);
    expect(at(CheckCode.RATE_LIMITED, now + 1_200)).toEqual({ ok: false, status: "limited", reason: "the API key is over its rate limit", retryAfterSeconds: 2 });
    expect(at(CheckCode.RATE_LIMITED, now - 5)).toMatchObject({ retryAfterSeconds: 1 });
    expect(at(CheckCode.USAGE_EXCEEDED)).toEqual({ ok: false, status: "limited", reason: "the API key has no credits left" });
  });
});
