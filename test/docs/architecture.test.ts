// docs/architecture.md's table of RPCs must match the code: a newcomer reads
// there the one file holding an RPC's handler, what it requires, its REST
// path, its audit target and where its tests start.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AUTHENTICATED, KEYWARD_SERVICES, PUBLIC, requirementOf } from "../../src/transport/authorization.js";
import { declaredRefusalTarget } from "../../src/transport/interceptors.js";
import { restRoutes } from "../../src/transport/rest/routes.js";

interface Row {
  rpc: string;
  handler: string;
  requires: string;
  rest: string;
  auditTarget: string;
  tests: string;
}

const code = (cell: string): string => /`([^`]+)`/.exec(cell)?.[1] ?? cell;

function rpcTable(): Row[] {
  const lines = readFileSync("docs/architecture.md", "utf8").split("\n");
  const header = lines.findIndex((l) => l.startsWith("| RPC | handler |"));
  const rows: Row[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith("|")) break;
    const [rpc, handler, requires, rest, auditTarget, tests] = line.split("|").slice(1, -1).map((c) => c.trim()) as [string, string, string, string, string, string];
    rows.push({ rpc, handler: code(handler), requires, rest: code(rest), auditTarget: code(auditTarget), tests: code(tests) });
  }
  return rows;
}

describe("docs/architecture.md", () => {
  const rows = rpcTable();
  const methods = KEYWARD_SERVICES.flatMap((s) => s.methods);
  const routes = restRoutes(KEYWARD_SERVICES);

  it("has one row for every RPC of Keyward's own services", () => {
    expect(rows.map((r) => r.rpc).sort()).toEqual(methods.map((m) => m.name).sort());
  });

  for (const method of methods) {
    it(`says where ${method.name} is, what it requires and where its tests are`, () => {
      const row = rows.find((r) => r.rpc === method.name)!;
      expect(row).toBeDefined();
      expect(readFileSync(`src/transport/${row.handler}`, "utf8")).toMatch(new RegExp(`\\b${method.localName}\\(`));
      const requirement = requirementOf(method);
      if (requirement === AUTHENTICATED) expect(row.requires).toMatch(/^any valid key/);
      else if (requirement === PUBLIC) expect(row.requires).toMatch(/^no key/);
      else expect(code(row.requires)).toBe(requirement);
      const route = routes.find((r) => r.method === method)!;
      expect(row.rest).toBe(`${route.httpMethod} ${route.template.source}`);
      expect(row.auditTarget).toBe(declaredRefusalTarget(method) ?? "—");
      expect(existsSync(row.tests), row.tests).toBe(true);
      const text = readFileSync(row.tests, "utf8");
      // Through a client, by procedure path, or by the REST path's end after its last variable (":enable").
      const restTail = route.template.source.replace(/.*}/, "");
      const calls = [`method.${method.localName}`, `.${method.localName}(`, `/${method.name}`, restTail];
      expect(calls.some((c) => c !== "" && text.includes(c)), `${row.tests} calls ${method.name}`).toBe(true);
    });
  }
});

describe("the layers", () => {
  const sources = (dir: string): string[] =>
    readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts")).map((f) => join(dir, f));
  const importsOf = (file: string): string[] => [...readFileSync(file, "utf8").matchAll(/^(?:import|export)[^;]*? from "([^"]+)"/gm)].map((m) => m[1]!);

  it("transport reaches storage only through the domain", () => {
    const offending = sources("src/transport").flatMap((f) => importsOf(f).filter((i) => i.includes("/storage/")).map((i) => `${f}: ${i}`));
    expect(offending).toEqual([]);
  });

  it("the domain holds no transport, protobuf, Connect or SQL types", () => {
    const foreign = /\/transport\/|\/gen\/|^@connectrpc\/|^@bufbuild\/|^kysely|^pg$/;
    const offending = sources("src/domain").flatMap((f) => importsOf(f).filter((i) => foreign.test(i)).map((i) => `${f}: ${i}`));
    expect(offending).toEqual([]);
  });

  it("storage depends on nothing above it", () => {
    const offending = sources("src/storage").flatMap((f) => importsOf(f).filter((i) => /\/(transport|domain)\//.test(i)).map((i) => `${f}: ${i}`));
    expect(offending).toEqual([]);
  });
});
