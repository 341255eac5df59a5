// Before anything else runs on PostgreSQL, one connection is made, so a start
// that cannot reach the database says which server, and why, rather than
// "migration unknown failed".
import type pg from "pg";

/** PostgreSQL at DATABASE_URL could not be reached or refused us. */
export class DatabaseUnreachableError extends Error {
  constructor(target: string, reason: string) {
    super(`cannot connect to PostgreSQL at ${target} (DATABASE_URL): ${reason}`);
    this.name = "DatabaseUnreachableError";
  }
}

/** `host:port/database as user`, from the URL; never the password. */
export function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    const host = u.hostname || u.searchParams.get("host") || "localhost";
    const port = u.port || u.searchParams.get("port") || "5432";
    const database = decodeURIComponent(u.pathname.slice(1));
    const user = decodeURIComponent(u.username);
    return `${host}:${port}${database ? `/${database}` : ""}${user ? ` as ${user}` : ""}`;
  } catch {
    return "the configured server";
  }
}

// Server error codes (SQLSTATE) and socket error codes a start meets.
const REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused (ECONNREFUSED): is PostgreSQL running and listening on that address?",
  ENOTFOUND: "host name not found (ENOTFOUND)",
  EAI_AGAIN: "host name lookup failed (EAI_AGAIN)",
  EHOSTUNREACH: "host unreachable (EHOSTUNREACH)",
  ENETUNREACH: "network unreachable (ENETUNREACH)",
  ETIMEDOUT: "no answer (ETIMEDOUT)",
  ECONNRESET: "the server closed the connection (ECONNRESET)",
  "28P01": "authentication failed (wrong user or password)",
  "28000": "the server does not allow this user to connect (check pg_hba.conf and the role)",
  "3D000": "the database does not exist",
};

function reasonFor(error: unknown, password: string): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && REASONS[code]) return REASONS[code]!;
  const message = error instanceof Error ? error.message : String(error);
  if (/timeout/i.test(message)) return "no answer within 5 s (timeout)";
  // The server's own words, which name the user but, to be sure, never the password.
  return password ? message.split(password).join("***") : message;
}

/** Borrows one connection from `pool` and gives it back; throws DatabaseUnreachableError on failure. */
export async function checkReachable(pool: pg.Pool, url: string): Promise<void> {
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    let password = "";
    try {
      password = decodeURIComponent(new URL(url).password);
    } catch {
      // config.ts has checked the URL; nothing to hide if it does not parse
    }
    throw new DatabaseUnreachableError(describeTarget(url), reasonFor(error, password));
  }
}
