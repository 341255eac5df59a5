// Strings encoded through Node's Buffer (src/transport/utf8.ts) must be the
// bytes TextEncoder writes, for every kind of character a name may hold.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureTextEncoding, getTextEncoding } from "@bufbuild/protobuf/wire";
import { CheckKeyResponseSchema } from "../../gen/keyward/v1/check_pb.js";
import { encodeStringsWithNodeBuffers } from "../../src/transport/utf8.js";

const SAMPLES = ["", "plain ascii", "café ünïcödé", "日本語のキー", "emoji 🔑🗝️", "lone \ud800 surrogate", "x".repeat(10_000)];

describe("protobuf strings encoded with Node buffers", () => {
  const standard = getTextEncoding();
  let expected: Uint8Array[];
  beforeAll(() => {
    configureTextEncoding(standard);
    expected = SAMPLES.map((s) => toBinary(CheckKeyResponseSchema, create(CheckKeyResponseSchema, { apiKeyName: s, permissions: [s, s] })));
    encodeStringsWithNodeBuffers();
  });
  afterAll(() => configureTextEncoding(standard));

  it("writes the same bytes as TextEncoder, and they read back", () => {
    expect(getTextEncoding()).not.toBe(standard);
    SAMPLES.forEach((s, i) => {
      const bytes = toBinary(CheckKeyResponseSchema, create(CheckKeyResponseSchema, { apiKeyName: s, permissions: [s, s] }));
      expect(Buffer.from(bytes).equals(Buffer.from(expected[i]!))).toBe(true);
      expect(fromBinary(CheckKeyResponseSchema, bytes).apiKeyName).toBe(s.replace("\ud800", "\ufffd"));
    });
  });
});
