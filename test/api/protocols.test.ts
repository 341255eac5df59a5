// CheckKey answers alike over every protocol and codec the one port speaks:
// a warm VALID answer is served pre-encoded to binary callers, and must be
// byte for byte what the message itself encodes to.
import { create, fromBinary, toBinary, toJson, type JsonValue } from "@bufbuild/protobuf";
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { CheckCode, CheckKeyRequestSchema, CheckKeyResponseSchema, CheckService, type CheckKeyResponse } from "../../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { grpcClients, keyWithPermissions, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";

describe("CheckKey over every protocol and codec", () => {
  let kw: RunningKeyward;
  let c: Clients;
  let key: { id: string; credentials: string; policyId: string };
  let expected: JsonValue;
  const request = () => ({ key: key.credentials, permissions: ["billing.invoices.read"], method: "GET", path: "/invoices" });

  beforeAll(async () => {
    kw = await startKeyward({ kind: "pglite" });
    c = grpcClients(kw.port);
    await c.permissions.call(
      PermissionService.method.registerPermissions,
      { service: "billing", permissions: [{ name: "billing.invoices.read" }, { name: "billing.invoices.write" }] },
      kw.adminKey,
    );
    key = await keyWithPermissions(kw, c, ["billing.invoices.read", "billing.*"]);
    const { apiKey } = await c.keys.call(ApiKeyService.method.adminGetApiKey, { id: key.id }, kw.adminKey);
    const { policies } = await c.policies.call(PolicyService.method.adminGetApiKeyPolicies, {}, kw.adminKey);
    const policy = policies.find((p) => p.id === key.policyId);
    expected = toJson(
      CheckKeyResponseSchema,
      create(CheckKeyResponseSchema, {
        valid: true,
        code: CheckCode.VALID,
        apiKeyId: key.id,
        apiKeyName: apiKey!.name,
        policyId: key.policyId,
        policyName: policy!.name,
        permissions: ["billing.invoices.read", "billing.*"],
        expireTime: apiKey!.expireTime,
      }),
    );
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
  });

  const transports: [string, () => Transport][] = [
    // connect-node's transports speak binary unless told otherwise.
    ["gRPC, binary", () => createGrpcTransport({ baseUrl: kw.url })],
    ["gRPC, JSON", () => createGrpcTransport({ baseUrl: kw.url, useBinaryFormat: false })],
    ["gRPC-Web, binary, HTTP/1.1", () => createGrpcWebTransport({ baseUrl: kw.url, httpVersion: "1.1" })],
    ["gRPC-Web, JSON, HTTP/2", () => createGrpcWebTransport({ baseUrl: kw.url, httpVersion: "2", useBinaryFormat: false })],
    ["Connect, binary, HTTP/1.1", () => createConnectTransport({ baseUrl: kw.url, httpVersion: "1.1", useBinaryFormat: true })],
    ["Connect, JSON, HTTP/2", () => createConnectTransport({ baseUrl: kw.url, httpVersion: "2", useBinaryFormat: false })],
    ["Connect GET, binary", () => createConnectTransport({ baseUrl: kw.url, httpVersion: "1.1", useBinaryFormat: true, useHttpGet: true })],
    ["Connect GET, JSON", () => createConnectTransport({ baseUrl: kw.url, httpVersion: "1.1", useBinaryFormat: false, useHttpGet: true })],
  ];

  it.each(transports)("%s: the same VALID answer on a cold and a warm check", async (_, transport) => {
    const check = createClient(CheckService, transport());
    const headers = { authorization: `Bearer ${kw.adminKey}` };
    for (let i = 0; i < 3; i++) expect(toJson(CheckKeyResponseSchema, await check.checkKey(request(), { headers }))).toEqual(expected);
  });

  it("the stock grpc-js client reads the same answer, and a denial as one", async () => {
    for (let i = 0; i < 2; i++) expect(toJson(CheckKeyResponseSchema, await c.check.call(CheckService.method.checkKey, request(), kw.adminKey))).toEqual(expected);
    const denied = await c.check.call(CheckService.method.checkKey, { ...request(), permissions: ["billing.refunds.issue"] }, kw.adminKey);
    expect(toJson(CheckKeyResponseSchema, denied)).toEqual({ code: "CHECK_CODE_PERMISSION_DENIED", apiKeyId: key.id, missingPermission: "billing.refunds.issue" });
  });

  it("names the first missing permission to the calling service over REST too, and only for a permission denial", async () => {
    const rest = (permissions: string[]) =>
      fetch(`${kw.url}/api/v1/api_keys:check`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${kw.adminKey}` },
        body: JSON.stringify({ ...request(), permissions }),
      }).then((r) => r.json());
    expect(await rest([...request().permissions, "billing.refunds.issue", "billing.refunds.approve"])).toMatchObject({
      code: "CHECK_CODE_PERMISSION_DENIED",
      apiKeyId: key.id,
      missingPermission: "billing.refunds.issue",
    });
    const valid = await rest([...request().permissions]);
    expect(valid.code).toBe("CHECK_CODE_VALID");
    expect(valid.missingPermission ?? "").toBe("");
  });

  it("a warm binary answer is byte for byte the message's own encoding", async () => {
    const post = async () => {
      const res = await fetch(`${kw.url}/keyward.v1.CheckService/CheckKey`, {
        method: "POST",
        headers: { "content-type": "application/proto", authorization: `Bearer ${kw.adminKey}` },
        body: toBinary(CheckKeyRequestSchema, create(CheckKeyRequestSchema, request())),
      });
      expect(res.status).toBe(200);
      return new Uint8Array(await res.arrayBuffer());
    };
    await post();
    const warm = await post();
    const message: CheckKeyResponse = fromBinary(CheckKeyResponseSchema, warm);
    expect(toJson(CheckKeyResponseSchema, message)).toEqual(expected);
    expect(message.$unknown).toBeUndefined();
    expect(Buffer.from(warm).equals(Buffer.from(toBinary(CheckKeyResponseSchema, message)))).toBe(true);
  });

  it("a warm binary answer follows a change to the key's policy", async () => {
    const check = createClient(CheckService, createGrpcTransport({ baseUrl: kw.url }));
    const headers = { authorization: `Bearer ${kw.adminKey}` };
    await check.checkKey(request(), { headers });
    await c.policies.call(
      PolicyService.method.adminUpdateApiKeyPolicy,
      { policy: { id: key.policyId, name: "renamed-readers", permissions: ["billing.invoices.read"] }, updateMask: { paths: ["name", "permissions"] } },
      kw.adminKey,
    );
    const answer = await check.checkKey(request(), { headers });
    expect(answer).toMatchObject({ valid: true, policyName: "renamed-readers", permissions: ["billing.invoices.read"] });
  });
});
