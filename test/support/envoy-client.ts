// Envoy's side of ext_authz: a stock @grpc/grpc-js client that loads the
// vendored .proto files with proto-loader (not Keyward's generated code), as
// Envoy's own gRPC client would see the service.
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

export interface HeaderOption {
  header: { key: string; value: string };
  append_action: string;
}

export interface CheckResponse {
  status: { code: number; message: string };
  http_response: "ok_response" | "denied_response" | "error_response";
  ok_response?: { headers: HeaderOption[]; headers_to_remove: string[] };
  denied_response?: { status: { code: string }; headers: HeaderOption[]; body: string };
}

type Check = (request: object, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response?: CheckResponse) => void) => void;
export type AuthorizationClient = grpc.Client & { Check: Check };

export const repoPath = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

export function authorizationClient(port: number): AuthorizationClient {
  const definition = protoLoader.loadSync("envoy/service/auth/v3/external_auth.proto", {
    includeDirs: [repoPath("proto"), repoPath("node_modules/google-proto-files")],
    keepCase: true,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    envoy: { service: { auth: { v3: { Authorization: new (address: string, credentials: grpc.ChannelCredentials) => AuthorizationClient } } } };
  };
  return new loaded.envoy.service.auth.v3.Authorization(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

/** One Check call, the proxy's key in `initial_metadata` as Envoy sends it. */
export function callCheck(envoy: AuthorizationClient, request: object, caller: string | null): Promise<CheckResponse> {
  const metadata = new grpc.Metadata();
  if (caller !== null) metadata.set("authorization", `Bearer ${caller}`);
  return new Promise((resolve, reject) => envoy.Check(request, metadata, (error, response) => (error ? reject(error) : resolve(response!))));
}
