// The hot path reads CheckKeyRequest without protobuf-es, and skips
// protovalidate for requests within the length rules. Both shortcuts must
// agree with what they stand in for, on any input.
import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ApiKeySchema } from "../../gen/keyward/v1/api_keys_pb.js";
import { CheckKeyRequestSchema } from "../../gen/keyward/v1/check_pb.js";
import { unicodeString } from "../support/arbitraries.js";
import { readCheckRequest } from "../../src/transport/handlers/check-request-wire.js";
import { withinLengthRules } from "../../src/transport/handlers/length-rules.js";
import { requestValidator } from "../../src/transport/interceptors.js";

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "grapheme", maxLength: 40 }), unicodeString({ maxLength: 300 }));
const requests = fc.record({
  key: text,
  permissions: fc.array(text, { maxLength: 110 }),
  method: text,
  path: text,
  clientIp: text,
  cost: fc.option(fc.nat({ max: 0xffffffff }), { nil: undefined }),
});

describe("readCheckRequest", () => {
  it("reads every request protobuf-es writes exactly as protobuf-es reads it", () => {
    fc.assert(
      fc.property(requests, (init) => {
        const bytes = Buffer.from(toBinary(CheckKeyRequestSchema, create(CheckKeyRequestSchema, init)));
        const fast = readCheckRequest(bytes);
        expect(fast).toBeDefined();
        expect(equals(CheckKeyRequestSchema, fast!, fromBinary(CheckKeyRequestSchema, bytes))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("on arbitrary bytes, either agrees with protobuf-es or leaves them to it", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (raw) => {
        const bytes = Buffer.from(raw);
        const fast = readCheckRequest(bytes);
        if (fast === undefined) return;
        expect(equals(CheckKeyRequestSchema, fast, fromBinary(CheckKeyRequestSchema, bytes))).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });

  it("reads `cost` (field 20, a two-byte tag) as protobuf-es does, or leaves it to protobuf-es", () => {
    // After a key, the cost tag then arbitrary bytes: valid varints, over-long ones, truncated ones, wider than 32 bits.
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (tail) => {
        const bytes = Buffer.concat([Buffer.from("0a0161a001", "hex"), Buffer.from(tail)]);
        const fast = readCheckRequest(bytes);
        if (fast === undefined) return;
        expect(equals(CheckKeyRequestSchema, fast, fromBinary(CheckKeyRequestSchema, bytes))).toBe(true);
      }),
      { numRuns: 5_000 },
    );
    // Present at 0 (read without spending) is not the same as absent (spend the default).
    expect(readCheckRequest(Buffer.from("a00100", "hex"))!.cost).toBe(0);
    expect(readCheckRequest(Buffer.from("0a0161", "hex"))!.cost).toBeUndefined();
    expect(readCheckRequest(Buffer.from("a001ffffffff0f", "hex"))!.cost).toBe(0xffffffff);
    // Last one wins, as for the strings.
    expect(readCheckRequest(Buffer.from("a00105a00107", "hex"))!.cost).toBe(7);
  });

  it("leaves to protobuf-es what it does not read: other fields, other wire types, truncation, bad UTF-8", () => {
    // …including `cost` truncated, wider than 32 bits, longer than 5 bytes, or with another wire type.
    for (const hex of ["30 01", "0a 05 61 62", "0a 02 c3 28", "0d 00 00 00 00", "0a ff ff ff ff 0f", "a0 01", "a0 01 ff", "a0 01 ff ff ff ff 1f", "a0 01 80 80 80 80 80 00", "a2 01 01 00"]) {
      expect(readCheckRequest(Buffer.from(hex.replaceAll(" ", ""), "hex")), hex).toBeUndefined();
    }
    // The last of a repeated singular field wins, as protobuf-es has it.
    const twice = Buffer.from("0a01610a0162", "hex");
    expect(readCheckRequest(twice)!.key).toBe(fromBinary(CheckKeyRequestSchema, twice).key);
  });
});

describe("withinLengthRules", () => {
  const within = withinLengthRules(CheckKeyRequestSchema)!;
  const validator = requestValidator();

  it("is derived for CheckKeyRequest, whose rules are length bounds and the bound on cost, and for no message with other rules", () => {
    expect(within).toBeTypeOf("function");
    expect(withinLengthRules(ApiKeySchema)).toBeUndefined();
  });

  it("never lets through a request protovalidate refuses", () => {
    fc.assert(
      fc.property(requests, (init) => {
        const request = create(CheckKeyRequestSchema, init);
        if (within(request)) expect(validator.validate(CheckKeyRequestSchema, request).kind).toBe("valid");
      }),
      { numRuns: 1_000 },
    );
  });

  it("lets through a plain request, and sends one at a bound to protovalidate", () => {
    expect(within(create(CheckKeyRequestSchema, { key: "kw_x", permissions: ["a.b"], method: "GET", path: "/x", clientIp: "10.0.0.1" }))).toBe(true);
    expect(within(create(CheckKeyRequestSchema, { key: "k".repeat(257) }))).toBe(false);
    expect(within(create(CheckKeyRequestSchema, { permissions: Array(101).fill("a.b") }))).toBe(false);
    expect(within(create(CheckKeyRequestSchema, { key: "kw_x", cost: 1_000_000 }))).toBe(true);
    expect(within(create(CheckKeyRequestSchema, { key: "kw_x", cost: 1_000_001 }))).toBe(false);
  });
});
