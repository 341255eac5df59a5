// Which permissions are registered now (patterns grant only those), kept in
// memory while change notifications keep it current, read from the store otherwise.
import type { Store } from "../storage/store.js";

export class RegisteredPermissionCache {
  private names: Promise<Set<string>> | undefined;
  /** The same set once loaded, for answers without a promise on the hot path. */
  private loaded: Set<string> | undefined;
  private cacheable = false;

  constructor(private readonly store: Store) {}

  async has(name: string): Promise<boolean> {
    if (!this.cacheable) return (await this.store.permissions.registeredAmong([name])).has(name);
    const names = (this.names ??= this.store.permissions.allRegistered().then(
      (set) => {
        if (this.names === names) this.loaded = set;
        return set;
      },
      (error: unknown) => {
        this.names = undefined;
        throw error;
      },
    ));
    return (await names).has(name);
  }

  /** Whether `name` is registered, when that is known without I/O; undefined otherwise. */
  known(name: string): boolean | undefined {
    return this.loaded?.has(name);
  }

  /** Forget what is known; keep it in memory from now on only if `cacheable`. */
  reset(cacheable: boolean): void {
    this.names = undefined;
    this.loaded = undefined;
    this.cacheable = cacheable;
  }
}
