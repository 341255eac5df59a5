// The usage fields of a CheckKeyResponse (`remaining` = 20, `reset_time` =
// 21), encoded by hand. A VALID answer is encoded once per cache entry
// (check.ts); for a key with usage limits these two fields change per check,
// and protobuf allows fields in any order, so they are appended to the
// pre-encoded answer rather than encoding the whole message again.
// test/api/usage-limits-verdicts.test.ts decodes the result with protobuf-es.

const REMAINING_TAG = [0xa0, 0x01]; // (20 << 3) | 0, as a varint
const RESET_TIME_TAG = [0xaa, 0x01]; // (21 << 3) | 2

function pushVarint(out: number[], value: number): void {
  // Non-negative integers up to 2^53: plain arithmetic, not 32-bit shifts.
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** The two fields' bytes (reset_time left out when null). */
export function usageFieldBytes(remaining: number, resetTime: Date | null): Buffer {
  const out: number[] = [...REMAINING_TAG];
  pushVarint(out, Math.max(0, Math.floor(remaining)));
  if (resetTime !== null) {
    const ms = resetTime.getTime();
    const seconds = Math.floor(ms / 1000);
    const nanos = (ms - seconds * 1000) * 1_000_000;
    const body: number[] = [];
    if (seconds !== 0) {
      body.push(0x08);
      pushVarint(body, seconds);
    }
    if (nanos !== 0) {
      body.push(0x10);
      pushVarint(body, nanos);
    }
    out.push(...RESET_TIME_TAG);
    pushVarint(out, body.length);
    out.push(...body);
  }
  return Buffer.from(out);
}
