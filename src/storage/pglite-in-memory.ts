// In-memory PGlite stores: tests open dozens in each process, so what each
// one would redo is done once per process. (Keyward itself always runs on a
// data directory or PostgreSQL.)
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { PGlite, PGliteOptions } from "@electric-sql/pglite";

/**
 * Every file of an in-memory store is in memory already, so its buffer pool
 * only needs room for the pages a statement pins: 2 MB, where 16 MB cost
 * ~0.2 s of zeroing at each start.
 */
const SETTINGS: readonly string[] = ["-c", "shared_buffers=2MB"];

// Node's WebAssembly global, which TypeScript declares only in the DOM's library.
declare const WebAssembly: { compile(bytes: Uint8Array): Promise<Runtime["pgliteWasmModule"]> };
type Runtime = Required<Pick<PGliteOptions, "pgliteWasmModule" | "fsBundle">>;

let runtime: Promise<Runtime> | undefined;

/**
 * PGlite's WebAssembly, compiled once per process, and its file bundle, read
 * once: PGlite otherwise does both at every start (~0.4 s of CPU).
 */
function sharedRuntime(): Promise<Runtime> {
  const read = (file: string) => readFile(fileURLToPath(import.meta.resolve(`@electric-sql/pglite/${file}`)));
  runtime ??= Promise.all([read("pglite.wasm"), read("pglite.data")]).then(async ([wasm, data]) => ({
    pgliteWasmModule: await WebAssembly.compile(wasm),
    fsBundle: new Blob([data]),
  }));
  return runtime;
}

/** Emptied databases started from each template, ready for the next store opened from it. */
const spares = new WeakMap<Blob, PGlite[]>();

/**
 * A new in-memory database: from `template` (a dump of a migrated store) when
 * given, else from initdb. A database from a template is not shut down when its
 * store closes: it is emptied (every table but the migrations' truncated, the
 * session reset) and the next store from that template gets it, skipping a
 * boot (~0.3 s of CPU on a quiet machine, ~1 s in a busy test worker).
 */
export async function openInMemoryPglite(template: Blob | undefined): Promise<PGlite> {
  const spare = template === undefined ? undefined : spares.get(template)?.pop();
  // Imported here, as open.ts imports each driver: a start on PostgreSQL loads none of PGlite.
  const { PGlite } = await import("@electric-sql/pglite");
  const pglite =
    spare ??
    (await PGlite.create({
      ...(await sharedRuntime()),
      startParams: [...PGlite.defaultStartParams, ...SETTINGS],
      ...(template === undefined ? {} : { loadDataDir: template }),
    }));
  if (template === undefined) return pglite;
  // What the store's close calls (through Kysely's PGlite dialect) empties it instead.
  return new Proxy(pglite, {
    get(target, property) {
      if (property === "close") return () => setAside(target, template);
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function setAside(pglite: PGlite, template: Blob): Promise<void> {
  try {
    // Out of any transaction left open, then back to a new session's state (settings, listens, prepared statements).
    await pglite.exec("rollback");
    await pglite.exec("discard all");
    const { rows } = await pglite.query<{ name: string }>(
      "select format('%I', tablename) as name from pg_tables where schemaname = 'public' and tablename not like 'kysely_migration%'",
    );
    if (rows.length > 0) await pglite.exec(`truncate ${rows.map((r) => r.name).join(", ")} restart identity cascade`);
  } catch {
    // Whatever the store left it in, it is not handed on.
    await pglite.close();
    return;
  }
  const list = spares.get(template) ?? [];
  list.push(pglite);
  spares.set(template, list);
}
