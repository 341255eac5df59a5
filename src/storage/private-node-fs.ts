// PGlite's on-disk filesystem, with group and other permission bits dropped.
// Emscripten's FS.open chmods every file it creates to the mode it was asked
// for (0666 here), and chmod ignores the umask: so with the stock NodeFS the
// store's files were world-writable whatever the umask. This wraps the
// module's chmod calls, before the data directory is mounted, so nothing
// PGlite writes — at initdb or later — gets more than 0600 (0700 for
// directories, which the process umask also covers).
import { NodeFS } from "@electric-sql/pglite/nodefs";

type EmscriptenOptions = Parameters<NodeFS["init"]>[1];
type Module = Parameters<Extract<NonNullable<EmscriptenOptions["preRun"]>[number], (...args: never[]) => unknown>>[0];
type Chmod = (target: unknown, mode: number, ...rest: unknown[]) => unknown;

const OWNER_ONLY = 0o7700;

export class PrivateNodeFS extends NodeFS {
  override async init(...args: Parameters<NodeFS["init"]>): ReturnType<NodeFS["init"]> {
    const { emscriptenOpts } = await super.init(...args);
    const ownerOnly = (module: Module) => {
      const fs = module.FS as unknown as Record<string, Chmod | undefined>;
      for (const name of ["chmod", "fchmod", "lchmod"]) {
        const original = fs[name];
        if (typeof original !== "function") continue;
        fs[name] = (target, mode, ...rest) => original.call(fs, target, mode & OWNER_ONLY, ...rest);
      }
    };
    // First, so the wrap is in place before NodeFS mounts the directory.
    return { emscriptenOpts: { ...emscriptenOpts, preRun: [ownerOnly, ...(emscriptenOpts.preRun ?? [])] } };
  }
}
