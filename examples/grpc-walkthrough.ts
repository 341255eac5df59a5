// The README's walkthrough as a stock @grpc/grpc-js client would run it, with
// the service definitions loaded from Keyward's .proto files by
// @grpc/proto-loader (what any Node service would do; other languages use
// their own protoc plugins on the same files).
//
//   KEYWARD_ADDRESS=127.0.0.1:8080 KEYWARD_ADMIN_KEY=kw_... npx tsx examples/grpc-walkthrough.ts
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const address = process.env.KEYWARD_ADDRESS ?? "127.0.0.1:8080";
const adminKey = process.env.KEYWARD_ADMIN_KEY ?? "";

const definition = protoLoader.loadSync(
  ["keyward/v1/permissions.proto", "keyward/v1/policies.proto", "keyward/v1/api_keys.proto", "keyward/v1/check.proto"],
  // The imported google/api and buf/validate protos are staged into .buf-deps by npm start, npm test and npm run generate.
  { includeDirs: ["proto", ".buf-deps"], keepCase: true, enums: String, longs: String, defaults: true },
);
// proto-loader's output is untyped by design; this example only needs "a client constructor per service".
const v1 = (grpc.loadPackageDefinition(definition) as unknown as { keyward: { v1: Record<string, typeof grpc.Client> } }).keyward.v1;

const credentials = grpc.credentials.createInsecure();
const clients = {
  permissions: new v1.PermissionService!(address, credentials),
  policies: new v1.PolicyService!(address, credentials),
  keys: new v1.ApiKeyService!(address, credentials),
  check: new v1.CheckService!(address, credentials),
};

/** Calls a unary method with the admin key as `authorization: Bearer`. */
function call<T>(client: grpc.Client, method: string, request: object): Promise<T> {
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${adminKey}`);
  const fn = (client as unknown as Record<string, Function>)[method]!.bind(client);
  return new Promise((resolve, reject) =>
    fn(request, metadata, (error: grpc.ServiceError | null, response: T) => (error ? reject(error) : resolve(response))),
  );
}

interface Verdict {
  valid: boolean;
  code: string;
}

async function main(): Promise<void> {
  // 1. The billing service declares its permissions (it does this at every start).
  await call(clients.permissions, "RegisterPermissions", {
    service: "billing",
    permissions: [
      { name: "billing.invoices.read", description: "Read invoices" },
      { name: "billing.invoices.write", description: "Issue invoices" },
    ],
  });

  // 2. An admin creates a policy from registered permissions, and a key on it.
  const { policy } = await call<{ policy: { id: string } }>(clients.policies, "AdminCreateApiKeyPolicy", {
    name: "invoice-reader",
    permissions: ["billing.invoices.read"],
  });
  const expires = Math.floor(Date.now() / 1000) + 30 * 86_400;
  const created = await call<{ api_key: { id: string }; credentials: string }>(clients.keys, "AdminCreateApiKey", {
    name: "reporting-job",
    policy_id: policy.id,
    expire_time: { seconds: String(expires) },
  });
  console.log(`created key ${created.api_key.id} (its credentials are shown once: store them now)`);

  // 3. The billing service checks the key on each request it receives.
  const check = (permissions: string[]) =>
    call<Verdict>(clients.check, "CheckKey", { key: created.credentials, permissions, method: "GET", path: "/invoices" });
  console.log("read invoices:", (await check(["billing.invoices.read"])).code);
  console.log("write invoices:", (await check(["billing.invoices.write"])).code);

  // 4. Widening the policy takes effect on the very next check.
  await call(clients.policies, "AdminUpdateApiKeyPolicy", {
    policy: { id: policy.id, permissions: ["billing.invoices.read", "billing.invoices.write"] },
    update_mask: { paths: ["permissions"] },
  });
  console.log("write invoices after widening:", (await check(["billing.invoices.write"])).code);

  // 5. Deleting the policy deletes its keys.
  await call(clients.policies, "AdminDeleteApiKeyPolicy", { id: policy.id });
  console.log("after deleting the policy:", (await check([])).code);
}

main()
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  })
  .finally(() => Object.values(clients).forEach((c) => c.close()));
