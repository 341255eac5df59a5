// Metrics for Prometheus and gRPC server reflection for API tools.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CheckService } from "../../gen/keyward/v1/check_pb.js";
import { connectJson } from "../../harness/clients.js";
import { bufCurl } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { metricValue } from "../support/metrics.js";

describe("operability", () => {
  let kw: RunningKeyward;
  beforeAll(async () => {
    kw = await startKeyward({ kind: "pglite" });
  });
  afterAll(async () => {
    await kw?.close();
  });

  it("serves Prometheus metrics that move with traffic, without secrets", async () => {
    const before = await metricValue(kw.url, "keyward_checks_total", { code: "MALFORMED" }).catch(() => 0);
    await connectJson(kw.url, CheckService.method.checkKey, { key: "nope" }, { authorization: `Bearer ${kw.adminKey}` });
    expect(await metricValue(kw.url, "keyward_checks_total", { code: "MALFORMED" })).toBe(before + 1);
    expect(await metricValue(kw.url, "keyward_rpc_duration_seconds_count", { procedure: "keyward.v1.CheckService/CheckKey", code: "OK" })).toBeGreaterThan(0);
    for (const name of ["keyward_cache_entries", "keyward_argon2_in_flight", "keyward_argon2_queued", "keyward_change_feed_up", "keyward_cache_misses_total"]) {
      expect(await metricValue(kw.url, name), name).toBeGreaterThanOrEqual(0);
    }
    const text = await (await fetch(`${kw.url}/metrics`)).text();
    expect(text).toContain("keyward_change_notification_lag_seconds");
    expect(text).not.toContain(kw.adminKey.split("_")[2]!);
  });

  it("lists its services by gRPC reflection (buf curl, as grpcurl would)", async () => {
    const stdout = await bufCurl("--list-services", kw.url);
    expect(stdout.trim().split("\n").sort()).toEqual(
      [
        "envoy.service.auth.v3.Authorization",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "keyward.v1.ApiKeyService",
        "keyward.v1.AuditService",
        "keyward.v1.CheckService",
        "keyward.v1.PermissionService",
        "keyward.v1.PolicyService",
        "keyward.v1.WebhookService",
      ].sort(),
    );
    // And calls a method described only by reflection.
    const health = await bufCurl("-d", "{}", `${kw.url}/grpc.health.v1.Health/Check`);
    expect(JSON.parse(health)).toEqual({ status: "SERVING" });
  });
});
