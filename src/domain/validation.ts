// Field rules shared by the domain services. Each throws InvalidArgumentError
// naming the field, before anything is written.
import { InvalidArgumentError } from "./errors.js";
import { Limits } from "./limits.js";

// Control characters (C0, DEL, C1) other than the tab and newline allowed in free text.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_EXCEPT_TAB_NEWLINE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** A name: 1–100 characters, no control characters, no surrounding spaces. */
export function checkName(field: string, value: string): string {
  if (value.trim() === "") throw new InvalidArgumentError(field, "is required");
  if ([...value].length > Limits.nameLength) throw new InvalidArgumentError(field, `must be at most ${Limits.nameLength} characters`);
  if (CONTROL.test(value)) throw new InvalidArgumentError(field, "must not contain control characters");
  if (value.trim() !== value) throw new InvalidArgumentError(field, "must not start or end with spaces");
  return value;
}

export function checkDescription(field: string, value: string): string {
  if ([...value].length > Limits.descriptionLength)
    throw new InvalidArgumentError(field, `must be at most ${Limits.descriptionLength} characters`);
  if (CONTROL_EXCEPT_TAB_NEWLINE.test(value)) throw new InvalidArgumentError(field, "must not contain control characters");
  return value;
}

/** An id given by the caller; whether it exists is the caller's next question. */
export function checkId(field: string, value: string): string {
  if (value === "") throw new InvalidArgumentError(field, "is required");
  if (value.length > Limits.idLength) throw new InvalidArgumentError(field, `must be at most ${Limits.idLength} characters`);
  return value;
}

export function checkCount(field: string, values: readonly unknown[], max: number): void {
  if (values.length > max) throw new InvalidArgumentError(field, `must have at most ${max} entries`);
}
