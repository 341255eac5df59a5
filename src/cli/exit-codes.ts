// The exit codes scripts can rely on, and the one place Connect codes map to them.
// README "Command line" lists the same table.
import { Code, ConnectError } from "@connectrpc/connect";

export const EXIT = {
  ok: 0,
  /** Bad flags or arguments: nothing was sent. */
  usage: 1,
  notFound: 2,
  /** No admin key, a bad one, or one without the permission. */
  denied: 3,
  /** The server refused the request as it stands: invalid, a conflict, a failed precondition. */
  rejected: 4,
  /** Keyward could not be reached or is not ready: worth retrying. */
  unavailable: 5,
  other: 10,
} as const;

export function exitCodeOf(code: Code): number {
  switch (code) {
    case Code.NotFound:
      return EXIT.notFound;
    case Code.Unauthenticated:
    case Code.PermissionDenied:
      return EXIT.denied;
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
    case Code.AlreadyExists:
    case Code.OutOfRange:
      return EXIT.rejected;
    case Code.Unavailable:
    case Code.DeadlineExceeded:
      return EXIT.unavailable;
    default:
      return EXIT.other;
  }
}

/** A mistake in the command line, found before anything is sent. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A failure the CLI finds itself, with the exit code it means (e.g. no admin key: denied). */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The exit code and the message for any error a command ends with. */
export function describeFailure(err: unknown): { exitCode: number; code: string; message: string } {
  if (err instanceof UsageError) return { exitCode: EXIT.usage, code: "usage", message: err.message };
  if (err instanceof CliError) return { exitCode: err.exitCode, code: "error", message: err.message };
  if (err instanceof ConnectError) {
    // Connect's own names (not_found, unauthenticated…), as its JSON errors spell them.
    const name = Code[err.code].replace(/[A-Z]/g, (c, i: number) => (i === 0 ? c : `_${c}`)).toLowerCase();
    return { exitCode: exitCodeOf(err.code), code: name, message: err.rawMessage };
  }
  return { exitCode: EXIT.other, code: "error", message: err instanceof Error ? err.message : String(err) };
}
