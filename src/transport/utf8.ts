// protobuf-es writes each string field with TextEncoder.encode, which gives
// every string an ArrayBuffer of its own. Buffer.from cuts short strings out
// of Node's shared pool instead: a CheckKey answer (seven strings) encodes in
// about two thirds of the time, with less garbage. The bytes are the same:
// both write UTF-8 and turn a lone surrogate into U+FFFD.
import { configureTextEncoding, getTextEncoding } from "@bufbuild/protobuf/wire";

/** Makes protobuf-es encode strings with Node's Buffer (process-wide; decoding is unchanged). */
export function encodeStringsWithNodeBuffers(): void {
  const standard = getTextEncoding();
  configureTextEncoding({ ...standard, encodeUtf8: (text: string) => Buffer.from(text, "utf8") });
}
