// Typed domain errors. transport/errors.ts maps each to one Connect code; the
// messages are written for the caller and never carry a secret.
import { UniqueViolation } from "../storage/errors.js";

// Whether an error means the store cannot be reached right now (the caller may
// retry): any operation can fail so, and transport tells it from a fault.
export { isStoreUnavailable } from "../storage/errors.js";

export abstract class DomainError extends Error {
  abstract readonly kind:
    | "invalid_argument"
    | "not_found"
    | "already_exists"
    | "permission_denied"
    | "unauthenticated"
    | "failed_precondition"
    | "resource_exhausted"
    | "unimplemented";
}

/** The request is wrong; `field` names the offending field (proto name, dotted path). */
export class InvalidArgumentError extends DomainError {
  readonly kind = "invalid_argument";
  constructor(readonly field: string, detail: string) {
    super(`${field}: ${detail}`);
  }
}

export class NotFoundError extends DomainError {
  readonly kind = "not_found";
}

export class AlreadyExistsError extends DomainError {
  readonly kind = "already_exists";
}

/**
 * For a write's `.catch`: the only unique column a write sets is a name, so
 * storage's unique violation means the name is taken and is answered with
 * `message`; any other error passes on as it is.
 */
export const nameTaken =
  (message: string) =>
  (error: unknown): never => {
    throw error instanceof UniqueViolation ? new AlreadyExistsError(message) : error;
  };

export class PermissionDeniedError extends DomainError {
  readonly kind = "permission_denied";
}

export class UnauthenticatedError extends DomainError {
  readonly kind = "unauthenticated";
}

export class FailedPreconditionError extends DomainError {
  readonly kind = "failed_precondition";
}

/** Keyward is too busy to do this now; the caller may retry. */
export class ResourceExhaustedError extends DomainError {
  readonly kind = "resource_exhausted";
}
