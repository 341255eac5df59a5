// The per-address limit of revoke by possession on its own: a bucket of
// `limit` calls refilled evenly over the period, IPv6 counted per /64, and a
// memory bound however many addresses call.
import { describe, expect, it } from "vitest";
import { ClientRateLimit, clientGroup } from "../../src/domain/client-rate-limit.js";

function limitAt(limit: number, periodMs: number, maxClients?: number) {
  let now = 1_000;
  const limiter = new ClientRateLimit({ limit, periodMs }, maxClients, () => now);
  return { limiter, advance: (ms: number) => void (now += ms) };
}

const takes = (limiter: ClientRateLimit, ip: string, n: number) => Array.from({ length: n }, () => limiter.take(ip));

describe("client rate limit", () => {
  it("allows `limit` calls at once, then one more each period/limit", () => {
    const { limiter, advance } = limitAt(3, 60_000);
    expect(takes(limiter, "192.0.2.1", 4)).toEqual([true, true, true, false]);
    advance(19_999);
    expect(limiter.take("192.0.2.1")).toBe(false);
    advance(1);
    expect(takes(limiter, "192.0.2.1", 2)).toEqual([true, false]);
    // A full period idle: the whole allowance again, never more.
    advance(600_000);
    expect(takes(limiter, "192.0.2.1", 4)).toEqual([true, true, true, false]);
  });

  it("counts each IPv4 address alone and each IPv6 /64 as one", () => {
    const { limiter } = limitAt(1, 60_000);
    expect([limiter.take("192.0.2.1"), limiter.take("192.0.2.2"), limiter.take("::ffff:192.0.2.1")]).toEqual([true, true, false]);
    expect([limiter.take("2001:db8::1"), limiter.take("2001:db8::ffff:1"), limiter.take("2001:db8:0:1::1")]).toEqual([true, false, true]);
    expect(clientGroup("2001:db8:0:0:1:2:3:4")).toBe("2001:db8::/64");
    expect(clientGroup("")).toBe("");
  });

  it("keeps at most maxClients buckets however many addresses call", () => {
    const { limiter } = limitAt(2, 60_000, 100);
    for (let i = 0; i < 1_000; i++) limiter.take(`10.0.${i >> 8}.${i & 255}`);
    expect(limiter.size).toBe(100);
    // The most recent addresses are the ones kept: the last one is still counted.
    expect(takes(limiter, "10.0.3.231", 2)).toEqual([true, false]);
  });
});
