import type { FieldMask } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError } from "../domain/errors.js";

/**
 * The fields an update changes. With a mask, each path must be one of
 * `updatable`; without one, the fields the request sets (AIP-134), which
 * `present` lists. An update that would change nothing is refused: answering
 * OK (and auditing an update) for a request whose fields were all misspelt or
 * forgotten would tell the caller its change was made.
 */
export function updatePaths<P extends string>(
  mask: FieldMask | undefined,
  updatable: readonly P[],
  present: readonly P[],
): Set<P> {
  if (!mask || mask.paths.length === 0) {
    if (present.length === 0) {
      throw new InvalidArgumentError("update_mask", `nothing to update: set update_mask or at least one of ${updatable.join(", ")}`);
    }
    return new Set(present);
  }
  const paths = new Set<P>();
  mask.paths.forEach((path, i) => {
    if (!(updatable as readonly string[]).includes(path)) {
      throw new InvalidArgumentError(`update_mask.paths[${i}]`, `"${path}" cannot be updated; updatable fields: ${updatable.join(", ")}`);
    }
    paths.add(path as P);
  });
  return paths;
}
