// The usage fields of a CheckKeyResponse (`remaining` = 20, `reset_time` =
// 21), encoded by hand. A VALID answer is encoded once per cache entry
// (check.ts); for a key with usage limits these two fields change per check,
// and protobuf allows fields in any order, so they are appended to the
// pre-encoded answer rather than encoding the whole message again.
// test/api/check-grpc.test.ts holds the result to protobuf-es's encoding.

// At most 2 + 10 (remaining) + 2 + 1 + 1 + 10 + 1 + 5 (reset_time) bytes.
const scratch = Buffer.allocUnsafe(40);

/** Writes a non-negative integer below 2^53 as a varint (plain arithmetic, not 32-bit shifts); the offset after it. */
function writeVarint(buf: Buffer, at: number, value: number): number {
  let v = value;
  while (v >= 0x80) {
    buf[at++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[at++] = v;
  return at;
}

/** The two fields' bytes (reset_time left out when null), in a shared buffer: copy them before the next call. */
export function usageFieldBytes(remaining: number, resetTimeMs: number | null): Buffer {
  scratch[0] = 0xa0; // (20 << 3) | 0, as a varint
  scratch[1] = 0x01;
  let at = writeVarint(scratch, 2, Math.max(0, Math.floor(remaining)));
  if (resetTimeMs !== null) {
    const seconds = Math.floor(resetTimeMs / 1000);
    const nanos = (resetTimeMs - seconds * 1000) * 1_000_000;
    scratch[at++] = 0xaa; // (21 << 3) | 2
    scratch[at++] = 0x01;
    const lengthAt = at++;
    let end = at;
    if (seconds !== 0) {
      scratch[end++] = 0x08;
      end = writeVarint(scratch, end, seconds);
    }
    if (nanos !== 0) {
      scratch[end++] = 0x10;
      end = writeVarint(scratch, end, nanos);
    }
    scratch[lengthAt] = end - at;
    at = end;
  }
  return scratch.subarray(0, at);
}
