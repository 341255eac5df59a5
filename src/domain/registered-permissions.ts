// Which permissions are registered now (patterns grant only those), kept in
// memory while change notifications keep it current, read from the store otherwise.
import type { Store } from "../storage/store.js";

export class RegisteredPermissions {
  private names: Promise<Set<string>> | undefined;
  private cacheable = false;

  constructor(private readonly store: Store) {}

  async has(name: string): Promise<boolean> {
    if (!this.cacheable) return (await this.store.permissions.registeredAmong([name])).has(name);
    this.names ??= this.store.permissions.allRegistered().catch((error: unknown) => {
      this.names = undefined;
      throw error;
    });
    return (await this.names).has(name);
  }

  /** Forget what is known; keep it in memory from now on only if `cacheable`. */
  reset(cacheable: boolean): void {
    this.names = undefined;
    this.cacheable = cacheable;
  }
}
