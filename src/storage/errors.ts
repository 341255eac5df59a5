// Errors the storage layer promises to its callers. Anything else from the
// driver is unexpected.

/** A unique constraint refused a write (e.g. a name already taken). */
export class UniqueViolation extends Error {
  constructor(readonly constraint: string, options?: ErrorOptions) {
    super(`unique constraint ${constraint} violated`, options);
    this.name = "UniqueViolation";
  }
}

interface DriverError {
  code?: unknown;
  constraint?: unknown;
  message?: unknown;
}

const asDriverError = (error: unknown): DriverError =>
  typeof error === "object" && error !== null ? (error as DriverError) : {};

/** Re-throws a driver's unique violation (SQLSTATE 23505) as UniqueViolation. */
export function translateDriverError(error: unknown): never {
  const e = asDriverError(error);
  if (e.code === "23505") {
    throw new UniqueViolation(typeof e.constraint === "string" ? e.constraint : "unknown", { cause: error });
  }
  throw error;
}

const UNAVAILABLE_NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH"]);

/**
 * True when the error means the database cannot be reached or is shutting
 * down (connection errors, SQLSTATE class 08, 57P0x), rather than a bad query.
 */
export function isStoreUnavailable(error: unknown): boolean {
  const e = asDriverError(error);
  const code = typeof e.code === "string" ? e.code : "";
  if (UNAVAILABLE_NODE_CODES.has(code) || code.startsWith("08") || code.startsWith("57P")) return true;
  const message = typeof e.message === "string" ? e.message : "";
  return /Connection terminated|connection timeout|Client has encountered a connection error|PGlite is closed/i.test(message);
}

/**
 * True when PostgreSQL gave up on a transaction to let a concurrent one go on
 * (a deadlock, 40P01, or a serialization failure, 40001): running the same
 * transaction again is the documented answer.
 */
export function isRetryableConflict(error: unknown): boolean {
  const code = asDriverError(error).code;
  return code === "40P01" || code === "40001";
}
