// An update command's flags as an update mask: only the fields given change.
import { UsageError } from "./exit-codes.js";
import type { Values } from "./command.js";

export class Changes {
  private readonly paths: string[] = [];

  constructor(private readonly values: Values) {}

  /** A field at `path` set to `value` when its flag was given (`value` not undefined). */
  set<T>(value: T | undefined, path: string, apply: (value: T) => void): void {
    if (value === undefined) return;
    apply(value);
    this.paths.push(path);
  }

  /**
   * A field at `path` that `--flag` replaces whole (`apply` reads it) and
   * `--clear` empties (the message's default); not both.
   */
  replaced(flag: string, clear: string, path: string, apply: () => void): void {
    const given = this.values[flag] !== undefined;
    const cleared = this.values[clear] === true;
    if (given && cleared) throw new UsageError(`give --${flag} or --${clear}, not both`);
    if (given) apply();
    if (given || cleared) this.paths.push(path);
  }

  /** The update mask; a usage error when no flag changes anything. */
  mask(): { paths: string[] } {
    if (this.paths.length === 0) throw new UsageError("nothing to change: give at least one of the flags");
    return { paths: this.paths };
  }
}
