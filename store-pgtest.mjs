import { PGlite } from "@electric-sql/pglite";
import { NodeFS } from "@electric-sql/pglite/nodefs";
process.umask(0o077);
class PrivateNodeFS extends NodeFS {
  async init(pg, opts) {
    const { emscriptenOpts } = await super.init(pg, opts);
    const strip = (mod) => {
      for (const name of ["chmod", "fchmod", "lchmod"]) {
        const original = mod.FS[name];
        mod.FS[name] = (target, mode, ...rest) => original.call(mod.FS, target, mode & ~0o077, ...rest);
      }
    };
    return { emscriptenOpts: { ...emscriptenOpts, preRun: [strip, ...(emscriptenOpts.preRun ?? [])] } };
  }
}
const db = await PGlite.create({ fs: new PrivateNodeFS("/tmp/store-pg") });
await db.query("create table t(x int)");
await db.query("insert into t select generate_series(1,100000)");
await db.close();
