// Which addresses webhooks may reach when private ones are not allowed: one
// row per range the SSRF guard refuses, and public addresses that pass.
import { describe, expect, it } from "vitest";
import { isPublicAddress } from "../../src/domain/ip-ranges.js";

describe("isPublicAddress", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback, anywhere in 127/8"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "link-local: cloud metadata"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["[::1]", "loopback, as a URL writes it"],
    ["fe80::1", "link-local"],
    ["fc00::1", "unique-local"],
    ["fd12:3456::1", "unique-local"],
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "IPv4-mapped loopback"],
    ["::ffff:7f00:1", "IPv4-mapped loopback, hex form"],
    ["::ffff:a9fe:a9fe", "IPv4-mapped metadata address"],
    ["64:ff9b::10.0.0.1", "NAT64 of a private address"],
    ["::127.0.0.1", "IPv4-compatible (deprecated), outside global unicast"],
    ["localhost", "a name, not an address"],
  ])("refuses %s (%s)", (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each(["1.1.1.1", "8.8.8.8", "172.32.0.1", "192.169.0.1", "2606:4700:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8"])("allows the public address %s", (ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });
});
