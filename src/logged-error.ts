// How an error appears in a log line. Driver errors carry what they were given:
// PGlite attaches the SQL and its parameters (`query`, `params`), pg the row
// that broke a constraint (`detail`, `where`). Parameters hold client input and
// hashes, so the log keeps only an allowlist of fields, each of bounded size.

const MAX_TEXT = 300;
const MAX_FRAMES = 20;
const MAX_CAUSES = 3;

/** Driver fields that name things in the schema, never values. */
const SAFE_FIELDS = ["code", "severity", "constraint", "table", "column", "routine"] as const;

export interface LoggedError {
  type: string;
  message: string;
  stack?: string;
  cause?: LoggedError;
  [field: string]: unknown;
}

/** At most MAX_TEXT characters of `text`, saying how long it was. */
export const bounded = (text: string): string => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}… (${text.length} characters)` : text);

/** The stack's frames (code locations) under a bounded first line; the original first line repeats the message. */
function frames(stack: unknown, head: string): string | undefined {
  if (typeof stack !== "string") return undefined;
  const at = stack
    .split("\n")
    .filter((line) => line.trimStart().startsWith("at "))
    .slice(0, MAX_FRAMES)
    .map((line) => bounded(line));
  return [head, ...at].join("\n");
}

export function loggedError(error: unknown, depth = 0): LoggedError {
  if (!(error instanceof Error)) return { type: typeof error, message: bounded(String(error)) };
  const fields = error as unknown as Record<string, unknown>;
  const type = bounded(error.constructor?.name || error.name);
  const message = bounded(error.message);
  const out: LoggedError = { type, message, stack: frames(error.stack, `${type}: ${message}`) };
  for (const name of SAFE_FIELDS) {
    const value = fields[name];
    if (typeof value === "string" || typeof value === "number") out[name] = typeof value === "string" ? bounded(value) : value;
  }
  if (error.cause !== undefined && depth < MAX_CAUSES) out.cause = loggedError(error.cause, depth + 1);
  return out;
}
