// Copies the third-party .proto files Keyward imports or serves from their npm
// packages into .buf-deps/, a buf module that is git-ignored: buf's remote
// registry is unreachable here and hand-copied vendor files would drift.
// protovalidate's validate.proto ships only as a compiled descriptor inside
// @bufbuild/protovalidate, so its source is written back from that descriptor.
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { protoSource } from "./proto-source.mjs";

const require = createRequire(import.meta.url);
const root = join(dirname(new URL(import.meta.url).pathname), "..");
const deps = join(root, ".buf-deps");

const packageDir = (name) => dirname(require.resolve(`${name}/package.json`));

const files = [
  [join(packageDir("google-proto-files"), "google/api/annotations.proto"), "google/api/annotations.proto"],
  [join(packageDir("google-proto-files"), "google/api/http.proto"), "google/api/http.proto"],
  // Envoy's ext_authz answers carry a google.rpc.Status (proto/envoy).
  [join(packageDir("google-proto-files"), "google/rpc/status.proto"), "google/rpc/status.proto"],
  [join(packageDir("grpc-health-check"), "proto/health/v1/health.proto"), "grpc/health/v1/health.proto"],
  [join(packageDir("@grpc/reflection"), "build/proto/grpc/reflection/v1/reflection.proto"), "grpc/reflection/v1/reflection.proto"],
  [join(packageDir("@grpc/reflection"), "build/proto/grpc/reflection/v1alpha/reflection.proto"), "grpc/reflection/v1alpha/reflection.proto"],
];

rmSync(deps, { recursive: true, force: true });
for (const [from, to] of files) {
  mkdirSync(dirname(join(deps, to)), { recursive: true });
  cpSync(from, join(deps, to));
}

const validate = join(deps, file_buf_validate_validate.proto.name);
mkdirSync(dirname(validate), { recursive: true });
writeFileSync(validate, protoSource(file_buf_validate_validate, "@bufbuild/protovalidate"));
