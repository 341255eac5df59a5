// Property-test inputs that more than one suite draws from.
import fc from "fast-check";

/** U+D800 to U+DFFF: UTF-16's surrogates, which are no code point of their own. */
const SURROGATES = { first: 0xd800, count: 0x800 };

/** Any Unicode code point but a surrogate. */
const codePoint = fc
  .integer({ min: 0, max: 0x10ffff - SURROGATES.count })
  .map((n) => (n >= SURROGATES.first ? n + SURROGATES.count : n));

/**
 * Strings of code points, any but lone surrogates, as many as fast-check's
 * `string` would draw (the same `minLength` and `maxLength`): what
 * `string({ unit: "binary" })` draws, without the index of every code point
 * it builds on first use (1.4 s of CPU in each worker that uses it).
 */
export const unicodeString = (lengths: { minLength?: number; maxLength?: number } = {}): fc.Arbitrary<string> =>
  fc.array(codePoint, lengths).map((codes) => String.fromCodePoint(...codes));
