// grpc.health.v1.Health: Check, Watch and List, answering what /healthz answers.
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../../gen/grpc/health/v1/health_pb.js";
import type { Readiness } from "../readiness.js";

// Health answers for the server as a whole ("") and for each Keyward service.
export const HEALTH_SERVICE_NAMES = [
  "",
  "keyward.v1.ApiKeyService",
  "keyward.v1.PolicyService",
  "keyward.v1.PermissionService",
  "keyward.v1.CheckService",
  "keyward.v1.AuditService",
];

const WATCH_INTERVAL_MS = 1_000;

export function healthHandlers(readiness: Readiness): ServiceImpl<typeof Health> {
  const statusOf = async () => ((await readiness.isReady()) ? Status.SERVING : Status.NOT_SERVING);
  const requireKnown = (service: string) => {
    if (!HEALTH_SERVICE_NAMES.includes(service)) throw new ConnectError(`unknown service "${service}"`, Code.NotFound);
  };
  return {
    async check(req) {
      requireKnown(req.service);
      return { status: await statusOf() };
    },

    async *watch(req, ctx) {
      // An unknown service is watched as SERVICE_UNKNOWN, per the health protocol.
      if (!HEALTH_SERVICE_NAMES.includes(req.service)) {
        yield { status: Status.SERVICE_UNKNOWN };
        return;
      }
      let last: Status | undefined;
      while (!ctx.signal.aborted) {
        const status = await statusOf();
        if (status !== last) {
          last = status;
          yield { status };
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, WATCH_INTERVAL_MS);
          ctx.signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
        });
      }
    },

    async list() {
      const status = await statusOf();
      return { statuses: Object.fromEntries(HEALTH_SERVICE_NAMES.map((name) => [name, { status }])) };
    },
  };
}
