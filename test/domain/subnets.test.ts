// A key's allowed client networks (design §2): IPv4 and IPv6 CIDRs in canonical
// form; IPv4-mapped IPv6 is read as IPv4; the no-escalation rule (subnetsWithin).
import { BlockList } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/domain/errors.js";
import {
  checkSubnets,
  cidrContains,
  formatAddress,
  formatCidr,
  parseAddress,
  parseCidr,
  subnetsAllow,
  subnetsWithin,
  type Address,
  type Cidr,
} from "../../src/domain/subnets.js";

/** A CIDR that must parse; fails the test otherwise. */
function cidr(text: string): Cidr {
  const c = parseCidr(text);
  if (typeof c === "string") throw new Error(`test setup: ${text} does not parse: ${c}`);
  return c;
}

/** An address that must parse; fails the test otherwise. */
function address(text: string): Address {
  const a = parseAddress(text);
  if (!a) throw new Error(`test setup: ${text} does not parse`);
  return a;
}

// Independent oracles, written here rather than borrowed from the code under test.
const ipv4Number = (text: string): bigint => text.split(".").reduce((acc, o) => acc * 256n + BigInt(o), 0n);
const ipv4Text = (v: bigint): string => [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join(".");
const netMask = (width: number, prefix: number): bigint => ((1n << BigInt(width)) - 1n) - ((1n << BigInt(width - prefix)) - 1n);
/** All eight groups written out, no compression. */
const ipv6Full = (v: bigint): string => Array.from({ length: 8 }, (_, i) => ((v >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(":");
/** RFC 5952 form, as the WHATWG URL serialiser writes IPv6 hosts (not for IPv4-mapped addresses). */
const ipv6Canonical = (text: string): string => new URL(`http://[${text}]/`).hostname.slice(1, -1);
/** Node's own subnet matcher. */
function blockListContains(network: string, prefix: number, family: "ipv4" | "ipv6", ip: string): boolean {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return list.check(ip, family);
}

describe("parseCidr", () => {
  it.each([
    ["10.0.0.0/8", "10.0.0.0/8"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["192.168.1.0/24", "192.168.1.0/24"],
    ["192.168.1.7/32", "192.168.1.7/32"],
    ["255.255.255.255/32", "255.255.255.255/32"],
    ["192.168.1.7", "192.168.1.7/32"],
    ["2001:0DB8:0:0:0:0:0:1/128", "2001:db8::1/128"],
    ["2001:db8::1", "2001:db8::1/128"],
    ["2001:DB8::/32", "2001:db8::/32"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1/128"], // equal runs: the first is compressed
    ["2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1/128"], // the longest run is compressed
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1/128"], // a single zero group is not
    ["2001:db8:1:1:1:1:1:0", "2001:db8:1:1:1:1:1:0/128"],
    ["0:0:0:0:0:0:0:0/0", "::/0"],
    ["::/0", "::/0"],
    ["::1", "::1/128"],
    ["1::", "1::/128"],
    ["fe80::/10", "fe80::/10"],
    ["FE80:0000:0000:0000:0000:0000:0000:0000/64", "fe80::/64"],
    ["2001:db8::a:b:c:d:e", "2001:db8:0:a:b:c:d:e/128"],
    ["64:ff9b::10.0.0.1", "64:ff9b::a00:1/128"], // a dotted tail outside ::ffff:0:0/96 stays IPv6
    ["::ffff:10.0.0.0/104", "10.0.0.0/8"],
    ["::ffff:10.1.2.3", "10.1.2.3/32"],
    ["::ffff:10.1.2.3/128", "10.1.2.3/32"],
    ["::FFFF:a00:0/104", "10.0.0.0/8"],
    ["::ffff:0.0.0.0/96", "0.0.0.0/0"],
  ])("%s → %s", (text, canonical) => {
    expect(formatCidr(cidr(text))).toBe(canonical);
    // The canonical form is itself a valid network, and a fixed point.
    expect(formatCidr(cidr(canonical))).toBe(canonical);
    expect(cidr(canonical)).toEqual(cidr(text));
  });

  it("returns the family, network value and prefix", () => {
    expect(parseCidr("10.0.0.0/8")).toEqual({ family: 4, value: 0x0a000000n, prefix: 8 });
    expect(parseCidr("2001:db8::/32")).toEqual({ family: 6, value: 0x20010db8n << 96n, prefix: 32 });
    expect(parseCidr("::ffff:10.0.0.0/104")).toEqual({ family: 4, value: 0x0a000000n, prefix: 8 });
  });

  it.each([
    ["10.0.0.1/8", "10.0.0.0/8"],
    ["192.168.1.77/24", "192.168.1.0/24"],
    ["0.0.0.1/0", "0.0.0.0/0"],
    ["2001:db8::1/32", "2001:db8::/32"],
    ["2001:db8:0:0:0:0:0:ff/120", "2001:db8::/120"],
    ["::ffff:10.0.0.1/104", "10.0.0.0/8"],
  ])("host bits set in %s: refused, naming the network %s", (text, network) => {
    const result = parseCidr(text);
    expect(typeof result).toBe("string");
    expect(result).toContain(network);
  });

  it.each([
    ["IPv4 prefix 33", "10.0.0.0/33"],
    ["IPv4 prefix 33 on 0.0.0.0", "0.0.0.0/33"],
    ["IPv6 prefix 129 on ::", "::/129"],
    ["IPv4 prefix 100", "10.0.0.0/100"],
    ["IPv6 prefix 129", "2001:db8::/129"],
    ["IPv4-mapped prefix 129", "::ffff:10.0.0.0/129"],
    ["a negative prefix", "10.0.0.0/-1"],
    ["an empty prefix", "10.0.0.0/"],
    ["a non-numeric prefix", "10.0.0.0/abc"],
    ["a fractional prefix", "10.0.0.0/8.0"],
    ["a prefix with a space", "10.0.0.0/ 8"],
    ["a prefix with a plus", "10.0.0.0/+8"],
    ["a hex prefix", "10.0.0.0/0x8"],
    ["two prefixes", "10.0.0.0/8/8"],
    ["a netmask instead of a prefix", "10.0.0.0/255.0.0.0"],
  ])("refuses %s (%j)", (_what, text) => {
    const result = parseCidr(text);
    expect(typeof result).toBe("string");
    expect(result).toMatch(/prefix/);
  });

  it.each([
    ["empty", ""],
    ["a bare slash", "/8"],
    ["a word", "banana"],
    ["a word with a prefix", "banana/8"],
    ["three octets", "10.0.0/8"],
    ["five octets", "10.0.0.0.0/8"],
    ["an octet over 255", "256.0.0.0/8"],
    ["a negative octet", "-1.0.0.0/8"],
    ["a leading space", " 10.0.0.0/8"],
    ["a trailing space", "10.0.0.0 /8"],
    ["three IPv6 groups", "1:2:3"],
    ["two '::'", "1::2::3"],
    ["nine IPv6 groups", "1:2:3:4:5:6:7:8:9"],
    ["a five-digit group", "2001:db8::12345"],
    ["a non-hex group", "2001:db8::g"],
    ["a hostname", "localhost/32"],
    ["brackets", "[2001:db8::1]/128"],
    ["an address with a port", "10.0.0.1:443"],
  ])("refuses garbage: %s (%j)", (_what, text) => {
    const result = parseCidr(text);
    expect(typeof result).toBe("string");
  });

  it.each(["fe80::1%eth0", "fe80::1%eth0/128", "fe80::%1/64"])("refuses a zone index: %j", (text) => {
    const result = parseCidr(text);
    expect(typeof result).toBe("string");
    expect(result).toMatch(/zone/);
  });

  it.each(["::ffff:10.0.0.0/64", "::ffff:0:0/95", "::ffff:10.0.0.0/0"])(
    "refuses an IPv4-mapped network shorter than /96: %j",
    (text) => {
      expect(typeof parseCidr(text)).toBe("string");
    },
  );
});

describe("parseAddress and formatAddress", () => {
  it.each([
    ["10.1.2.3", { family: 4, value: 0x0a010203n }, "10.1.2.3"],
    ["0.0.0.0", { family: 4, value: 0n }, "0.0.0.0"],
    ["::ffff:10.1.2.3", { family: 4, value: 0x0a010203n }, "10.1.2.3"],
    ["::ffff:a01:203", { family: 4, value: 0x0a010203n }, "10.1.2.3"],
    ["::1", { family: 6, value: 1n }, "::1"],
    ["::", { family: 6, value: 0n }, "::"],
    ["2001:DB8::1", { family: 6, value: (0x20010db8n << 96n) | 1n }, "2001:db8::1"],
  ])("%s", (text, parsed, formatted) => {
    expect(parseAddress(text)).toEqual(parsed);
    expect(formatAddress(address(text))).toBe(formatted);
  });

  it.each(["", "10.0.0", "10.0.0.256", "010.0.0.1", "10.0.0.1/32", "fe80::1%eth0", "::ffff:10.0.0.1%eth0", "2001:db8::g", "x"])(
    "refuses %j",
    (text) => {
      expect(parseAddress(text)).toBeUndefined();
    },
  );
});

describe("cidrContains", () => {
  it.each([
    ["10.0.0.0/8", "10.0.0.0", true],
    ["10.0.0.0/8", "10.255.255.255", true],
    ["10.0.0.0/8", "11.0.0.0", false],
    ["10.0.0.0/8", "9.255.255.255", false],
    ["192.168.1.7/32", "192.168.1.7", true],
    ["192.168.1.7/32", "192.168.1.8", false],
    ["2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true],
    ["2001:db8::/32", "2001:db9::", false],
    ["0.0.0.0/0", "2001:db8::1", false], // families never mix
    ["::/0", "10.0.0.1", false],
    ["10.0.0.0/8", "::ffff:10.9.9.9", true],
  ])("%s contains %s: %s", (network, ip, expected) => {
    expect(cidrContains(cidr(network), address(ip))).toBe(expected);
  });
});

describe("subnetsAllow", () => {
  it.each<[string, string[], string, boolean]>([
    ["IPv4 inside", ["10.0.0.0/8"], "10.255.0.1", true],
    ["IPv4 at the network address", ["10.0.0.0/8"], "10.0.0.0", true],
    ["IPv4 just after", ["10.0.0.0/8"], "11.0.0.0", false],
    ["IPv4 just before", ["10.0.0.0/8"], "9.255.255.255", false],
    ["a single IPv4 host", ["192.168.1.7"], "192.168.1.7", true],
    ["next to a single IPv4 host", ["192.168.1.7"], "192.168.1.6", false],
    ["IPv6 inside", ["2001:db8::/32"], "2001:db8:ffff::1", true],
    ["IPv6 inside, written in full", ["2001:db8::/32"], "2001:0db8:0000:0000:0000:0000:0000:0001", true],
    ["IPv6 outside", ["2001:db8::/32"], "2001:db9::1", false],
    ["a single IPv6 host", ["2001:db8::1"], "2001:DB8:0::1", true],
    ["IPv4-mapped client in an IPv4 subnet", ["10.0.0.0/8"], "::ffff:10.1.2.3", true],
    ["IPv4-mapped client (hex) in an IPv4 subnet", ["10.0.0.0/8"], "::ffff:a01:203", true],
    ["IPv4-mapped client outside an IPv4 subnet", ["10.0.0.0/8"], "::ffff:11.1.2.3", false],
    ["IPv4 client in an IPv4-mapped subnet", ["::ffff:10.0.0.0/104"], "10.1.2.3", true],
    ["IPv4 client outside an IPv4-mapped subnet", ["::ffff:10.0.0.0/104"], "11.1.2.3", false],
    ["IPv6 client against IPv4 subnets", ["0.0.0.0/0"], "2001:db8::1", false],
    ["several subnets: the IPv6 one matches", ["10.0.0.0/8", "2001:db8::/32"], "2001:db8::5", true],
    ["several subnets: the IPv4 one matches", ["10.0.0.0/8", "2001:db8::/32"], "10.0.0.5", true],
    ["several subnets: none matches", ["10.0.0.0/8", "2001:db8::/32"], "192.168.0.1", false],
    ["no subnets: any IPv4", [], "203.0.113.9", true],
    ["no subnets: any IPv6", [], "2001:db8::1", true],
    ["no subnets: even no client address", [], "", true],
    ["no subnets: even garbage", [], "not an ip", true],
    ["subnets and no client address", ["0.0.0.0/0"], "", false],
    ["subnets and a garbage client address", ["0.0.0.0/0"], "not an ip", false],
    ["subnets and a client address with a port", ["10.0.0.0/8"], "10.0.0.1:443", false],
    ["subnets and a client address with a prefix", ["10.0.0.0/8"], "10.0.0.1/32", false],
    ["subnets and a client address with a zone", ["fe80::/10"], "fe80::1%eth0", false],
    ["subnets and a bracketed client address", ["2001:db8::/32"], "[2001:db8::1]", false],
    ["0.0.0.0/0 allows the lowest IPv4", ["0.0.0.0/0"], "0.0.0.0", true],
    ["0.0.0.0/0 allows the highest IPv4", ["0.0.0.0/0"], "255.255.255.255", true],
  ])("%s: %j from %j → %s", (_what, subnets, ip, expected) => {
    expect(subnetsAllow(subnets, ip)).toBe(expected);
  });

  it("0.0.0.0/0 allows every IPv4 address", () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        expect(subnetsAllow(["0.0.0.0/0"], ip)).toBe(true);
      }),
    );
  });

  it("an IPv4 /32 allows that address written as IPv4-mapped IPv6, and only that address", () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), (a, b) => {
        expect(subnetsAllow([`${a}/32`], `::ffff:${a}`)).toBe(true);
        expect(subnetsAllow([`::ffff:${a}/128`], a)).toBe(true);
        expect(subnetsAllow([`${a}/32`], `::ffff:${b}`)).toBe(a === b);
      }),
    );
  });
});

describe("networks computed by masking (properties)", () => {
  it("IPv4: the network of any address at any prefix parses, round-trips and contains the address", () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (a, prefix) => {
        const value = ipv4Number(a);
        const network = value & netMask(32, prefix);
        const text = `${ipv4Text(network)}/${prefix}`;
        const parsed = cidr(text);
        expect(parsed).toEqual({ family: 4, value: network, prefix });
        expect(formatCidr(parsed)).toBe(text);
        expect(cidrContains(parsed, address(a))).toBe(true);
        expect(subnetsAllow([text], a)).toBe(true);
        expect(blockListContains(ipv4Text(network), prefix, "ipv4", a)).toBe(true);
        // Written with the host bits, it is either the network itself or refused naming it.
        const written = parseCidr(`${a}/${prefix}`);
        if (network === value) expect(written).toEqual(parsed);
        else expect(written).toEqual(expect.stringContaining(text));
      }),
    );
  });

  it("IPv4: membership agrees with Node's BlockList", () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), fc.ipV4(), (a, prefix, ip) => {
        const network = ipv4Text(ipv4Number(a) & netMask(32, prefix));
        expect(subnetsAllow([`${network}/${prefix}`], ip)).toBe(blockListContains(network, prefix, "ipv4", ip));
      }),
    );
  });

  it("IPv6: the network of any address at any prefix parses, round-trips canonically and contains the address", () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 0, max: 128 }), (a, prefix) => {
        const parsed = address(a);
        fc.pre(parsed.family === 6); // IPv4-mapped addresses are IPv4 (covered above)
        expect(formatAddress(parsed)).toBe(ipv6Canonical(a));
        const network = parsed.value & netMask(128, prefix);
        const canonical = `${ipv6Canonical(ipv6Full(network))}/${prefix}`;
        const net = cidr(`${ipv6Full(network)}/${prefix}`);
        expect(net).toEqual({ family: 6, value: network, prefix });
        expect(formatCidr(net)).toBe(canonical);
        expect(formatCidr(cidr(canonical))).toBe(canonical);
        expect(cidrContains(net, parsed)).toBe(true);
        expect(subnetsAllow([canonical], a)).toBe(true);
        expect(blockListContains(ipv6Full(network), prefix, "ipv6", a)).toBe(true);
        const written = parseCidr(`${a}/${prefix}`);
        if (network === parsed.value) expect(written).toEqual(net);
        else expect(written).toEqual(expect.stringContaining(canonical));
      }),
    );
  });

  it("IPv6: membership agrees with Node's BlockList", () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 0, max: 128 }), fc.ipV6(), (a, prefix, ip) => {
        const parsed = address(a);
        fc.pre(parsed.family === 6 && address(ip).family === 6);
        const network = ipv6Full(parsed.value & netMask(128, prefix));
        expect(subnetsAllow([`${network}/${prefix}`], ip)).toBe(blockListContains(network, prefix, "ipv6", ip));
      }),
    );
  });

  it("formatAddress(parseAddress(x)) is a fixed point and keeps the address", () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (x) => {
        const once = formatAddress(address(x));
        expect(formatAddress(address(once))).toBe(once);
        expect(address(once)).toEqual(address(x));
      }),
    );
  });
});

describe("checkSubnets", () => {
  it("canonicalises every entry, in order", () => {
    expect(checkSubnets("allowed_subnets", ["10.0.0.0/8", "2001:0DB8::/32", "192.168.1.1", "::ffff:172.16.0.0/108"])).toEqual([
      "10.0.0.0/8",
      "2001:db8::/32",
      "192.168.1.1/32",
      "172.16.0.0/12",
    ]);
  });

  it("drops duplicates, judged on the canonical form", () => {
    expect(checkSubnets("allowed_subnets", ["10.0.0.0/8", "::ffff:10.0.0.0/104", "2001:db8::/32", "2001:DB8:0::/32", "10.0.0.0/8"])).toEqual([
      "10.0.0.0/8",
      "2001:db8::/32",
    ]);
  });

  it("keeps no subnets as none", () => {
    expect(checkSubnets("allowed_subnets", [])).toEqual([]);
  });


  it.each([
    ["host bits set", "10.0.0.1/8", "10.0.0.0/8"],
    ["a prefix out of range", "10.0.0.0/33", "10.0.0.0/33"],
    ["garbage", "banana", "banana"],
    ["a zone index", "fe80::1%eth0", "fe80::1%eth0"],
    ["an IPv4-mapped network shorter than /96", "::ffff:10.0.0.0/64", "::ffff:10.0.0.0/64"],
  ])("refuses %s, naming allowed_subnets[i] and the entry", (_what, bad, mentioned) => {
    let caught: unknown;
    try {
      checkSubnets("api_key.allowed_subnets", ["10.0.0.0/8", "2001:db8::/32", bad]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidArgumentError);
    const error = caught as InvalidArgumentError;
    expect(error.field).toBe("api_key.allowed_subnets[2]");
    expect(error.message.startsWith("api_key.allowed_subnets[2]: ")).toBe(true);
    expect(error.message).toContain(mentioned);
  });
});

describe("subnetsWithin", () => {
  it.each<[string, string[], string[], boolean]>([
    ["outer empty: anything is within", ["10.0.0.0/8"], [], true],
    ["both empty", [], [], true],
    ["inner empty with outer non-empty", [], ["0.0.0.0/0"], false],
    ["a smaller network", ["10.1.0.0/16"], ["10.0.0.0/8"], true],
    ["the same network", ["10.0.0.0/8"], ["10.0.0.0/8"], true],
    ["the same network, IPv4-mapped", ["::ffff:10.0.0.0/104"], ["10.0.0.0/8"], true],
    ["a larger network", ["10.0.0.0/8"], ["10.1.0.0/16"], false],
    ["a larger network at the same address", ["10.0.0.0/8"], ["10.0.0.0/16"], false],
    ["a larger IPv6 network at the same address", ["2001:db8::/32"], ["2001:db8::/48"], false],
    ["a disjoint network", ["11.0.0.0/8"], ["10.0.0.0/8"], false],
    ["a host within", ["10.1.2.3"], ["10.0.0.0/8"], true],
    ["IPv6 within", ["2001:db8:1::/48"], ["2001:db8::/32"], true],
    ["IPv6 not within", ["2001:db8::/32"], ["2001:db8:1::/48"], false],
    ["IPv4 not within IPv6", ["10.0.0.0/8"], ["2001:db8::/32"], false],
    ["IPv6 not within IPv4 everything", ["2001:db8::/32"], ["0.0.0.0/0"], false],
    ["each inner one within some outer one", ["10.1.0.0/16", "2001:db8::1"], ["2001:db8::/32", "10.0.0.0/8"], true],
    ["every inner one must be within", ["10.1.0.0/16", "192.168.0.0/16"], ["10.0.0.0/8"], false],
  ])("%s: %j within %j → %s", (_what, inner, outer, expected) => {
    expect(subnetsWithin(inner, outer)).toBe(expected);
  });

  // Networks and clients from a small space, so that containment comes up often.
  const v4 = fc
    .tuple(fc.constantFrom(0, 1, 2, 3), fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7), fc.constantFrom(0, 8, 16, 22, 23, 24, 28, 29, 30, 31, 32))
    .map(([x, y, prefix]) => {
      const value = ipv4Number(`10.0.${x}.${y}`) & netMask(32, prefix);
      return `${ipv4Text(value)}/${prefix}`;
    });
  const v6 = fc
    .tuple(fc.constantFrom(0, 1, 2, 3), fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7), fc.constantFrom(0, 32, 64, 110, 111, 112, 124, 125, 126, 127, 128))
    .map(([x, y, prefix]) => {
      const value = ((0x20010db8n << 96n) | (BigInt(x) << 16n) | BigInt(y)) & netMask(128, prefix);
      return `${ipv6Full(value)}/${prefix}`;
    });
  const subnetList = fc.array(fc.oneof(v4, v6), { maxLength: 3 });
  const clientIp = fc.oneof(
    fc.tuple(fc.constantFrom(0, 1, 2, 3), fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7)).map(([x, y]) => `10.0.${x}.${y}`),
    fc.tuple(fc.constantFrom(0, 1, 2, 3), fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7)).map(([x, y]) => `::ffff:10.0.${x}.${y}`),
    fc.tuple(fc.constantFrom(0, 1, 2, 3), fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7)).map(([x, y]) => `2001:db8::${x}:${y}`),
    fc.constantFrom("", "garbage", "192.168.0.1", "2001:db9::1"),
  );

  it("is sound: an address the inner subnets allow, the outer ones allow too", () => {
    let meaningful = 0; // within, inner allows, and the lists differ
    fc.assert(
      fc.property(subnetList, subnetList, clientIp, (inner, outer, ip) => {
        if (subnetsWithin(inner, outer) && subnetsAllow(inner, ip)) {
          expect(subnetsAllow(outer, ip)).toBe(true);
          if (inner.length > 0 && outer.length > 0 && inner.join() !== outer.join()) meaningful++;
        }
      }),
      { numRuns: 3000 },
    );
    expect(meaningful).toBeGreaterThan(20);
  });

  it("a key's subnets are within themselves", () => {
    fc.assert(
      fc.property(subnetList, (list) => {
        expect(subnetsWithin(list, list)).toBe(true);
      }),
    );
  });
});

describe("IPv4-mapped networks with host bits", () => {
  it("quotes the prefix as written", () => {
    expect(parseCidr("::ffff:10.0.0.1/104")).toBe("host bits are set after the /104 prefix; the network is 10.0.0.0/8");
  });
});
