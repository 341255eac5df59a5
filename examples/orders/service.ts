// An example service protected by Keyward through @keyward/client, served two
// ways: a grpc-js server (permissions from its protos) and a plain node:http
// server (permissions from a route table). `protect: false` serves the same
// handlers unprotected, for the bench's baseline.
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { KeywardClient, keywardHttp, type KeywardClientOptions, loadProtoServices, protectService, registerPermissions, verifiedKey, type Routes } from "../../packages/client/src/index.js";
import type { OrdersPermission } from "./permissions.gen.js";

const here = new URL(".", import.meta.url).pathname;
// Keyward's proto/ folder holds keyward/v1/options.proto, which orders.proto imports.
const includeDirs = [`${here}proto`, `${here}../../proto`];
export const definition = protoLoader.loadSync("orders/v1/orders.proto", { includeDirs, keepCase: true });
const OrderService = definition["orders.v1.OrderService"] as grpc.ServiceDefinition;
// The same file, with every keyward.v1 option (proto-loader keeps only some).
const orderServiceOptions = loadProtoServices("orders/v1/orders.proto", { includeDirs }).get("orders.v1.OrderService")!;

interface Order {
  id: string;
  item: string;
  caller_key_id: string;
}
type Unary<Req> = grpc.handleUnaryCall<Req, Order>;

// The handlers: what the service does, knowing nothing of Keyward but verifiedKey().
const callerOf = (carrier: object) => verifiedKey(carrier)?.id ?? "";
const implementation: Record<string, Unary<{ id?: string; item?: string }>> = {
  GetOrder: (call, done) => done(null, { id: call.request.id ?? "", item: "book", caller_key_id: callerOf(call) }),
  PlaceOrder: (call, done) => done(null, { id: "o-2", item: call.request.item ?? "", caller_key_id: callerOf(call) }),
  GetOrderInvoice: (call, done) => done(null, { id: call.request.id ?? "", item: "invoice", caller_key_id: callerOf(call) }),
  WhoAmI: (call, done) => done(null, { id: "", item: verifiedKey(call)?.name ?? "", caller_key_id: callerOf(call) }),
};

// The HTTP side's route table; OrdersPermission makes a misspelt name a compile error.
const routes: Routes<OrdersPermission> = {
  "GET /orders/:id": "orders.read",
  "POST /orders": "orders.write",
  "GET /orders/:id/invoice": ["orders.read", "orders.invoices.read"],
};

function httpHandler(req: IncomingMessage, res: ServerResponse): void {
  const id = /^\/orders\/([^/?]+)/.exec(req.url ?? "")?.[1] ?? "";
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id, caller_key_id: callerOf(req) }));
}

export interface OrdersServiceOptions {
  keywardAddress: string;
  serviceKey: string;
  protect?: boolean;
  cacheTtlMs?: number;
  /** Wait for registration before serving (default true). */
  awaitRegistration?: boolean;
  /** Where refusals go for the operator (the missing permission included); default: a warning on stderr. */
  onRefused?: KeywardClientOptions["onRefused"];
}

export interface RunningOrdersService {
  grpcPort: number;
  httpPort: number;
  keyward: KeywardClient;
  registered: Promise<unknown>;
  close(): Promise<void>;
}

export async function startOrdersService(options: OrdersServiceOptions): Promise<RunningOrdersService> {
  const protect = options.protect ?? true;
  // ---- the whole of what a service writes to adopt Keyward (see the README) ----
  const keyward = new KeywardClient({
    address: options.keywardAddress,
    serviceKey: options.serviceKey,
    cache: { ttlMs: options.cacheTtlMs ?? 1000 },
    // The caller hears only "403"; the operator's log says which permission the key lacked.
    onRefused: options.onRefused ?? ((refusal, request) => console.warn(`refused key ${refusal.apiKeyId || "?"} on ${request.path}: ${refusal.reason}${"missingPermission" in refusal ? ` (lacks ${refusal.missingPermission})` : ""}`)),
  });
  const registered = registerPermissions(keyward, { service: "orders", descriptors: [orderServiceOptions] });
  const grpcServer = new grpc.Server();
  grpcServer.addService(OrderService, protect ? protectService(keyward, orderServiceOptions, implementation) : implementation);
  const httpServer = createServer(protect ? keywardHttp(keyward, { routes }).wrap(httpHandler) : httpHandler);
  // ------------------------------------------------------------------------------
  if (options.awaitRegistration ?? true) await registered;

  const grpcPort = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
  httpServer.listen(0, "127.0.0.1");
  await once(httpServer, "listening");
  return {
    grpcPort,
    httpPort: (httpServer.address() as AddressInfo).port,
    keyward,
    registered,
    close: async () => {
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
      keyward.close();
    },
  };
}
