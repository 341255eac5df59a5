// Which address Keyward judges its own callers by (subnets, audit).
import { describe, expect, it } from "vitest";
import { clientIpOf } from "../../src/server.js";

describe("clientIpOf", () => {
  it.each<[string, string | string[] | undefined, number, string]>([
    ["10.0.0.5", undefined, 0, "10.0.0.5"],
    ["::ffff:10.0.0.5", undefined, 0, "10.0.0.5"],
    // No trusted proxy: X-Forwarded-For is the client's own claim and is ignored.
    ["10.0.0.5", "203.0.113.9", 0, "10.0.0.5"],
    // One trusted proxy: the entry it appended (the rightmost) is the client.
    ["10.0.0.5", "198.51.100.1, 203.0.113.9", 1, "203.0.113.9"],
    // Two trusted proxies: the outer one appended the second entry from the right.
    ["10.0.0.5", "198.51.100.1, 203.0.113.9, 10.0.0.4", 2, "203.0.113.9"],
    ["10.0.0.5", ["198.51.100.1", "203.0.113.9"], 1, "203.0.113.9"],
    // Fewer entries than trusted hops: fall back to the socket peer.
    ["10.0.0.5", "203.0.113.9", 3, "10.0.0.5"],
  ])("peer %s, X-Forwarded-For %j, %i hops → %s", (peer, xff, hops, expected) => {
    expect(clientIpOf(peer, xff, hops)).toBe(expected);
  });
});
