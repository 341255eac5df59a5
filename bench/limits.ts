// Issue #20: what usage limits cost warm CheckKey. A key with a rate limit it
// never reaches and a key with credits it never runs out of, each against a
// key without limits, driven by h2load on CPU 1 in rotated order so that no
// key always runs first.
import { median, round } from "./stats.js";
import { CHECK_PATH, checkHeaders, metricSum, writeCheckBody } from "./floor.js";
import { ensureH2load, h2load } from "./h2load.js";

const ROUNDS = Number(process.env.BENCH_LIMITS_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_FLOOR_SECONDS ?? 5);

export interface LimitsInput {
  keyward: { pid: number; baseUrl: string };
  callerKey: string;
  keys: { plain: string; rateLimited: string; credits: string };
  permission: string;
  workDir: string;
}

type Which = keyof LimitsInput["keys"];

export async function usageLimitsThroughput(input: LimitsInput, log: (line: string) => void) {
  ensureH2load();
  const files = {
    plain: writeCheckBody(input.workDir, "plain.bin", input.keys.plain, input.permission),
    rateLimited: writeCheckBody(input.workDir, "rate.bin", input.keys.rateLimited, input.permission),
    credits: writeCheckBody(input.workDir, "credits.bin", input.keys.credits, input.permission),
  };
  const orders: Which[][] = [
    ["plain", "rateLimited", "credits"],
    ["rateLimited", "credits", "plain"],
    ["credits", "plain", "rateLimited"],
  ];
  const validBefore = await metricSum(input.keyward.baseUrl, "keyward_checks_total", 'code="VALID"');
  const allBefore = await metricSum(input.keyward.baseUrl, "keyward_checks_total");
  const rounds: Array<Record<Which, number>> = [];
  for (let r = 0; r < ROUNDS; r++) {
    const round = { plain: 0, rateLimited: 0, credits: 0 };
    for (const which of orders[r % 3]!) {
      const result = await h2load({
        url: `${input.keyward.baseUrl}${CHECK_PATH}`,
        bodyFile: files[which],
        headers: checkHeaders(input.callerKey),
        connections: 4,
        streams: 16,
        seconds: SECONDS,
        warmupSeconds: 1,
        serverPid: input.keyward.pid,
      });
      if (result.failed) throw new Error(`usage limits, ${which}: ${result.failed} failed requests`);
      round[which] = result.rps;
    }
    rounds.push(round);
  }
  const valid = (await metricSum(input.keyward.baseUrl, "keyward_checks_total", 'code="VALID"')) - validBefore;
  const all = (await metricSum(input.keyward.baseUrl, "keyward_checks_total")) - allBefore;
  if (valid !== all) throw new Error(`usage limits: ${all - valid} of ${all} checks under load were not VALID`);
  const results = {
    rounds: ROUNDS,
    rps: {
      plain: round(median(rounds.map((x) => x.plain)), 0),
      rateLimited: round(median(rounds.map((x) => x.rateLimited)), 0),
      credits: round(median(rounds.map((x) => x.credits)), 0),
    },
    rateLimitedRatio: round(median(rounds.map((x) => x.rateLimited / x.plain))),
    creditsRatio: round(median(rounds.map((x) => x.credits / x.plain))),
    creditLease: { base: Number(process.env.KEYWARD_CREDIT_LEASE ?? 10), max: Number(process.env.KEYWARD_CREDIT_LEASE_MAX ?? 200) },
    targets: { rateLimited: ">= 0.9", credits: ">= 0.8" },
  };
  log(
    `usage limits, warm CheckKey against a key without limits (h2load, median of ${ROUNDS} rounds): ` +
      `rate limit ${results.rateLimitedRatio}× (target ≥ 0.9), credits ${results.creditsRatio}× (target ≥ 0.8; leases of ${results.creditLease.base} growing to ${results.creditLease.max} credits)`,
  );
  return results;
}
