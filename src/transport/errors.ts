// The one place where errors become Connect codes. REST (transcoding) maps
// Connect codes to HTTP statuses in its own single table.
import { Code, ConnectError } from "@connectrpc/connect";
import { DomainError, isStoreUnavailable } from "../domain/errors.js";

const CODE_OF_KIND: Record<DomainError["kind"], Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  permission_denied: Code.PermissionDenied,
  unauthenticated: Code.Unauthenticated,
  failed_precondition: Code.FailedPrecondition,
  unimplemented: Code.Unimplemented,
  resource_exhausted: Code.ResourceExhausted,
};

/**
 * The error to send the caller. Domain errors keep their message; a store that
 * cannot be reached is UNAVAILABLE (the caller may retry); anything else is
 * INTERNAL with a generic message, the original kept as `cause` for the log.
 */
export function toConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof DomainError) return new ConnectError(error.message, CODE_OF_KIND[error.kind]);
  if (isStoreUnavailable(error)) {
    return new ConnectError("the key store is unavailable; try again shortly", Code.Unavailable, undefined, undefined, error);
  }
  return new ConnectError("internal error", Code.Internal, undefined, undefined, error);
}
