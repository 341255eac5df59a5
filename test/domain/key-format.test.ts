// The credential format of design §3: `<prefix>_<key id>_<secret><checksum>`.
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  CHECKSUM_LENGTH,
  KEY_ID_LENGTH,
  KEY_PREFIX_PATTERN,
  SECRET_LENGTH,
  formatKey,
  newCredentials,
  parseKey,
} from "../../src/domain/key-format.js";
import { BASE62, newId, randomBase62 } from "../../src/domain/random.js";

// randomBytes answers from this queue while it holds buffers, and from the
// real CSPRNG otherwise, so the rejection sampling can be checked exactly.
const queued = vi.hoisted(() => ({ buffers: [] as Buffer[] }));
vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>();
  return { ...actual, randomBytes: (size: number) => queued.buffers.shift() ?? actual.randomBytes(size) };
});
afterEach(() => {
  queued.buffers.length = 0;
});

const BASE62_ONLY = /^[0-9A-Za-z]*$/;
const base62Char = fc.constantFrom(...BASE62);
const base62String = (length: number) => fc.string({ unit: base62Char, minLength: length, maxLength: length });
const prefixArb = fc.stringMatching(KEY_PREFIX_PATTERN);
/** Any well-formed key: a prefix, a key id and a secret of the right lengths. */
const keyArb = fc.record({ prefix: prefixArb, id: base62String(KEY_ID_LENGTH), secret: base62String(SECRET_LENGTH) });

const valid = newCredentials("kw");
const KEY = valid.credentials;

describe("newCredentials", () => {
  it("issues kw_<16 id chars>_<33 secret chars><6 checksum chars>, all base62", () => {
    expect(KEY).toMatch(/^kw_[0-9A-Za-z]{16}_[0-9A-Za-z]{39}$/);
    expect(KEY).toBe(`kw_${valid.id}_${valid.secret}${KEY.slice(-CHECKSUM_LENGTH)}`);
  });

  it("draws a secret of 33 base62 characters, at least 192 bits", () => {
    expect(valid.secret).toHaveLength(33);
    expect(valid.secret).toMatch(BASE62_ONLY);
    expect(valid.secret.length * Math.log2(62)).toBeGreaterThanOrEqual(192);
  });

  it("parses back to its own id and secret", () => {
    expect(parseKey("kw", KEY)).toEqual({ id: valid.id, secret: valid.secret });
  });

  it("never repeats an id or a secret", () => {
    const issued = Array.from({ length: 200 }, () => newCredentials("kw"));
    expect(new Set(issued.map((c) => c.id)).size).toBe(200);
    expect(new Set(issued.map((c) => c.secret)).size).toBe(200);
  });

  it("works with a configured prefix other than kw", () => {
    const c = newCredentials("acme2");
    expect(c.credentials.startsWith("acme2_")).toBe(true);
    expect(parseKey("acme2", c.credentials)).toEqual({ id: c.id, secret: c.secret });
    expect(parseKey("kw", c.credentials)).toBeUndefined();
    expect(parseKey("acme", c.credentials)).toBeUndefined();
  });

  it("round-trips for any prefix the configuration accepts (property)", () => {
    fc.assert(
      fc.property(prefixArb, (prefix) => {
        const c = newCredentials(prefix);
        expect(parseKey(prefix, c.credentials)).toEqual({ id: c.id, secret: c.secret });
      }),
      { numRuns: 200 },
    );
  });
});

describe("formatKey / parseKey", () => {
  it("any formatted key parses back to its id and secret (property)", () => {
    fc.assert(
      fc.property(keyArb, ({ prefix, id, secret }) => {
        expect(parseKey(prefix, formatKey(prefix, id, secret))).toEqual({ id, secret });
      }),
    );
  });

  it("refuses a key after any single-character change (property)", () => {
    const replacement = fc.oneof(base62Char, fc.constantFrom("_", "-", " ", ".", "é", "\u0000", "\n"));
    fc.assert(
      fc.property(keyArb, fc.nat(), replacement, ({ prefix, id, secret }, at, char) => {
        const key = formatKey(prefix, id, secret);
        const i = at % key.length;
        fc.pre(key[i] !== char);
        const changed = key.slice(0, i) + char + key.slice(i + 1);
        expect(parseKey(prefix, changed)).toBeUndefined();
      }),
      { numRuns: 2_000 },
    );
  });

  it("refuses a key with two adjacent characters swapped (property)", () => {
    fc.assert(
      fc.property(keyArb, fc.nat(), ({ prefix, id, secret }, at) => {
        const key = formatKey(prefix, id, secret);
        // Any swap before the checksum; CRC32 catches every such 16-bit burst.
        const i = at % (key.length - CHECKSUM_LENGTH - 1);
        fc.pre(key[i] !== key[i + 1]);
        const swapped = key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2);
        expect(parseKey(prefix, swapped)).toBeUndefined();
      }),
      { numRuns: 1_000 },
    );
  });

  const withoutChecksum = KEY.slice(0, -CHECKSUM_LENGTH);
  const malformed: [string, string][] = [
    ["the empty string", ""],
    ["the prefix alone", "kw_"],
    ["another prefix of the same length", `kx${KEY.slice(2)}`],
    ["the prefix in upper case", `KW${KEY.slice(2)}`],
    ["no prefix at all", KEY.slice(3)],
    ["one character too many", `${KEY}a`],
    ["one character too few", KEY.slice(0, -1)],
    ["the checksum missing", withoutChecksum],
    ["a trailing newline", `${KEY}\n`],
    ["a leading space", ` ${KEY}`],
    ["the underscores removed", KEY.replaceAll("_", "")],
    ["the first underscore replaced", `kw-${KEY.slice(3)}`],
    ["the second underscore replaced", `${KEY.slice(0, 19)}-${KEY.slice(20)}`],
    ["the underscore one place early (15-char id, 34-char secret)", formatKey("kw", valid.id.slice(0, 15), valid.id.slice(15) + valid.secret)],
    ["a non-base62 id, checksum recomputed", formatKey("kw", `${valid.id.slice(0, 15)}-`, valid.secret)],
    ["a non-base62 secret, checksum recomputed", formatKey("kw", valid.id, `${valid.secret.slice(0, 32)}+`)],
    ["a non-ASCII secret, checksum recomputed", formatKey("kw", valid.id, `${valid.secret.slice(0, 32)}é`)],
    ["a non-base62 checksum", `${withoutChecksum}${KEY.slice(-CHECKSUM_LENGTH, -1)}/`],
    ["the checksum of another key", `${withoutChecksum}${newCredentials("kw").credentials.slice(-CHECKSUM_LENGTH)}`],
    ["a very long string", `kw_${"a".repeat(1_000_000)}`],
    ["the key repeated", KEY + KEY],
  ];
  it.each(malformed)("refuses %s", (_what, presented) => {
    expect(parseKey("kw", presented)).toBeUndefined();
  });
});

describe("randomBase62", () => {
  it.each([0, 1, 16, 33, 100, 1_000])("returns exactly %i base62 characters", (length) => {
    const s = randomBase62(length);
    expect(s).toHaveLength(length);
    expect(s).toMatch(BASE62_ONLY);
  });

  it("uses the whole 62-character alphabet", () => {
    expect(BASE62).toHaveLength(62);
    expect(new Set(BASE62).size).toBe(62);
    // 20,000 draws: a missing character would be a ~1e-130 accident.
    expect(new Set(randomBase62(20_000)).size).toBe(62);
  });

  it("maps bytes 0–247 onto the alphabet and skips 248–255 so every character is equally likely", () => {
    queued.buffers.push(Buffer.from([248, 0, 255, 61, 62, 123, 247]));
    expect(randomBase62(5)).toBe(`0z0${BASE62[123 % 62]}${BASE62[247 % 62]}`);
  });

  it("draws more bytes until it has enough characters", () => {
    queued.buffers.push(Buffer.from([250, 1, 251]), Buffer.from([252, 253, 254, 255]), Buffer.from([2, 3, 4]));
    expect(randomBase62(3)).toBe("123");
  });

  it("newId gives 16 base62 characters", () => {
    expect(newId()).toMatch(/^[0-9A-Za-z]{16}$/);
  });
});
