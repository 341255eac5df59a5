// Runs the example orders service against a running Keyward:
//   KEYWARD_ADDRESS=127.0.0.1:8080 ORDERS_KEYWARD_KEY=kw_... npx tsx examples/orders/main.ts
import { startOrdersService } from "./service.js";

const service = await startOrdersService({
  keywardAddress: process.env.KEYWARD_ADDRESS ?? "127.0.0.1:8080",
  serviceKey: process.env.ORDERS_KEYWARD_KEY ?? "",
});
console.log(`orders: gRPC on 127.0.0.1:${service.grpcPort}, HTTP on http://127.0.0.1:${service.httpPort}`);
process.once("SIGTERM", () => void service.close());
process.once("SIGINT", () => void service.close());
