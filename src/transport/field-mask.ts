import type { FieldMask } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError } from "../domain/errors.js";

/**
 * The fields an update changes. `present` names every updatable field (in the
 * order the refusals list them) and whether the request sets it. With a mask,
 * each path must be an updatable field; without one, the fields the request
 * sets (AIP-134). An update that would change nothing is refused: answering
 * OK (and auditing an update) for a request whose fields were all misspelt or
 * forgotten would tell the caller its change was made.
 */
export function updatePaths<P extends string>(mask: FieldMask | undefined, present: Record<P, boolean>): Set<P> {
  const updatable = Object.keys(present) as P[];
  if (!mask || mask.paths.length === 0) {
    const set = updatable.filter((field) => present[field]);
    if (set.length === 0) {
      throw new InvalidArgumentError("update_mask", `nothing to update: set update_mask or at least one of ${updatable.join(", ")}`);
    }
    return new Set(set);
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
