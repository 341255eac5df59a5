// @keyward/client's parts that need no Keyward: the verdict cache's TTL and
// bound, reading keys and addresses, the wire codec, proto declarations, and
// typed permission names.
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { CheckCode, CheckKeyRequestSchema, CheckKeyResponseSchema, CheckService } from "../../../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../../../gen/keyward/v1/permissions_pb.js";
import { fromBinary } from "@bufbuild/protobuf";
import { RegisterPermissionsRequestSchema } from "../../../gen/keyward/v1/permissions_pb.js";
import { ANY_VALID_KEY, declaredService, permissionsToRegister, plainAddress, presentedKey, VerdictCache, type Routes } from "../src/index.js";
import { permissionNamesSource } from "../src/bin/permission-names.js";
import { decodeCheckKeyResponse, encodeCheckKeyRequest, encodeRegisterPermissionsRequest } from "../src/wire.js";
import type { VerifiedKey } from "../src/verified-key.js";

const key = (id: string, expireTimeMs = Number.MAX_SAFE_INTEGER): VerifiedKey => ({ id, name: id, service: "", policy: { id: "p", name: "p", permissions: [] }, expireTimeMs });
const request = { key: "kw_secret", permissions: ["orders.read"], method: "GET", path: "/orders/1", clientIp: "10.0.0.1" };

describe("VerdictCache", () => {
  it("reuses a VALID verdict for its TTL only, and never past the key's own expiry", () => {
    let now = 1_000;
    const cache = new VerdictCache({ ttlMs: 1000 }, () => now);
    cache.set("d", key("a"));
    now += 999;
    expect(cache.get("d")?.id).toBe("a");
    now += 1;
    expect(cache.get("d")).toBeUndefined();
    cache.set("e", key("b", now + 10));
    now += 10;
    expect(cache.get("e")).toBeUndefined();
  });

  it("holds at most maxEntries, dropping the oldest", () => {
    const cache = new VerdictCache({ maxEntries: 3 });
    for (const id of ["a", "b", "c", "d"]) cache.set(id, key(id));
    expect(cache.size).toBe(3);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.get("d")?.id).toBe("d");
  });

  it("refuses a TTL longer than two seconds (revocations must take effect quickly)", () => {
    expect(() => new VerdictCache({ ttlMs: 2001 })).toThrow(/between 0 and 2000/);
  });

  it("keys entries by a digest of everything the verdict depends on, never by the raw key", () => {
    const d = VerdictCache.digest(request);
    expect(d).not.toContain("kw_secret");
    for (const change of [{ key: "kw_other" }, { permissions: ["orders.write"] }, { method: "POST" }, { path: "/orders/2" }, { clientIp: "10.0.0.2" }]) {
      expect(VerdictCache.digest({ ...request, ...change })).not.toBe(d);
    }
  });
});

describe("reading the request", () => {
  const headers = (h: Record<string, string>) => (n: string) => h[n];
  it.each<[Record<string, string>, string]>([
    [{ authorization: "Bearer kw_a" }, "kw_a"],
    [{ authorization: "bearer   kw_a " }, "kw_a"],
    [{ "x-api-key": "kw_b" }, "kw_b"],
    [{ "api-key": "kw_c" }, "kw_c"],
    [{ authorization: "Basic abc", "x-api-key": "kw_b" }, ""],
    [{}, ""],
  ])("presentedKey(%j) is %j", (h, expected) => {
    expect(presentedKey(headers(h))).toBe(expected);
  });

  it.each([
    ["ipv4:127.0.0.1:5000", "127.0.0.1"],
    ["ipv6:[::1]:5000", "::1"],
    ["::ffff:10.1.2.3", "10.1.2.3"],
    ["10.1.2.3", "10.1.2.3"],
    ["::1", "::1"],
    [undefined, ""],
  ])("plainAddress(%j) is %j", (address, expected) => {
    expect(plainAddress(address)).toBe(expected);
  });
});

describe("the hand-written wire codec agrees with Keyward's generated messages", () => {
  it("encodes CheckKeyRequest", () => {
    expect(fromBinary(CheckKeyRequestSchema, encodeCheckKeyRequest(request))).toMatchObject(request);
  });

  it("decodes CheckKeyResponse, and treats valid without code VALID as invalid", () => {
    const response = create(CheckKeyResponseSchema, {
      valid: true,
      code: CheckCode.VALID,
      apiKeyId: "k1",
      apiKeyName: "n",
      policyId: "p1",
      policyName: "pn",
      permissions: ["orders.*"],
      expireTime: timestampFromMs(1_800_000_000_123),
      service: "orders",
    });
    expect(decodeCheckKeyResponse(toBinary(CheckKeyResponseSchema, response))).toEqual({
      valid: true,
      code: "VALID",
      apiKeyId: "k1",
      apiKeyName: "n",
      policyId: "p1",
      policyName: "pn",
      permissions: ["orders.*"],
      expireTimeMs: 1_800_000_000_123,
      service: "orders",
      missingPermission: "",
    });
    const odd = create(CheckKeyResponseSchema, { valid: true, code: CheckCode.PERMISSION_DENIED, missingPermission: "orders.write" });
    expect(decodeCheckKeyResponse(toBinary(CheckKeyResponseSchema, odd))).toMatchObject({ valid: false, code: "PERMISSION_DENIED", missingPermission: "orders.write" });
  });

  it("encodes RegisterPermissionsRequest", () => {
    const bytes = encodeRegisterPermissionsRequest("orders", [{ name: "orders.read", description: "Read" }, { name: "orders.write", description: "" }]);
    expect(fromBinary(RegisterPermissionsRequestSchema, bytes)).toMatchObject({
      service: "orders",
      permissions: [
        { name: "orders.read", description: "Read" },
        { name: "orders.write", description: "" },
      ],
    });
  });
});

describe("declarations from DescService options (Keyward's own protos as the sample)", () => {
  it("reads each method's requirement and the service's described permissions", () => {
    const check = declaredService(CheckService);
    expect(check.methods).toEqual([{ path: "/keyward.v1.CheckService/CheckKey", names: ["CheckKey", "checkKey", "checkKey"], requirement: ["keyward.keys.check"] }]);
    expect(check.described).toEqual([{ name: "keyward.keys.check", description: "Check keys presented to a service (CheckKey)" }]);
    const register = declaredService(PermissionService).methods.find((m) => m.path.endsWith("/RegisterPermissions"))!;
    expect(register.requirement).toBe(ANY_VALID_KEY);
    expect(permissionsToRegister("keyward", [PermissionService]).map((p) => p.name)).toEqual(["keyward.permissions.read", "keyward.permissions.register"]);
    expect(permissionsToRegister("orders", [PermissionService])).toEqual([]);
  });
});

describe("typed permission names", () => {
  it("generates a const list and a union type from the names", () => {
    expect(permissionNamesSource("order-items", ["order-items.read"])).toContain("export type OrderItemsPermission = (typeof OrderItemsPermissions)[number];");
  });

  it("makes a misspelt name in a route table a compile error (checked by tsc in npm run lint)", () => {
    type OrdersPermission = "orders.read" | "orders.write";
    const routes: Routes<OrdersPermission> = {
      "GET /orders": "orders.read",
      // @ts-expect-error "orders.raed" is not one of the service's permissions
      "GET /typo": "orders.raed",
    };
    expect(Object.keys(routes)).toHaveLength(2);
  });
});
