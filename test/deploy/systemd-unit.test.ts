// docs/deploy/keyward.service, checked by systemd's own tools where they are
// installed (no running systemd needed): the unit parses, its hardening keeps
// systemd's exposure score low, and it starts what `npm start` starts.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const unit = fileURLToPath(new URL("../../docs/deploy/keyward.service", import.meta.url));
const packageJson = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { scripts: Record<string, string> };
const hasSystemdAnalyze = spawnSync("systemd-analyze", ["--version"]).status === 0;

/** The values of `key=` lines in the unit, in order. */
const settings = (key: string) =>
  readFileSync(unit, "utf8")
    .split("\n")
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));

describe("the systemd unit", () => {
  it("runs the compiled server with node, as npm start does, from the install folder", () => {
    const [node, script] = settings("ExecStart")[0]!.split(" ");
    expect(node).toBe("/usr/bin/node");
    expect(packageJson.scripts.start).toBe(`node ${script!.replace(`${settings("WorkingDirectory")[0]}/`, "")}`);
  });

  it("writes only to its state directory, the bootstrap key included (never to the journal)", () => {
    expect(settings("ProtectSystem")).toEqual(["strict"]);
    expect(settings("StateDirectory")).toEqual(["keyward"]);
    const environment = settings("Environment");
    expect(environment).toContain("KEYWARD_DATA_DIR=%S/keyward/data");
    expect(environment).toContain("KEYWARD_BOOTSTRAP_KEY_FILE=%S/keyward/bootstrap-admin-key");
  });

  it.skipIf(!hasSystemdAnalyze)("passes systemd-analyze verify", () => {
    // systemd reports an unknown setting or a bad value on stderr, still exiting 0.
    const result = spawnSync("systemd-analyze", ["verify", unit], { encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it.skipIf(!hasSystemdAnalyze)("has an exposure score of 2 or less (systemd-analyze security)", () => {
    const output = execFileSync("systemd-analyze", ["security", "--offline=true", "--no-pager", unit], { encoding: "utf8" });
    const score = Number(/Overall exposure level for keyward\.service: ([\d.]+)/.exec(output)?.[1]);
    expect(score).toBeLessThanOrEqual(2);
  });
});
