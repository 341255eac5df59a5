// Labels: a small map of metadata on a key (owner, team, ticket) for the people
// and scripts that manage keys. proto/ declares the same bounds on every request
// field and the store's CHECK holds them too; the domain checks them again
// because it is also called without a request (and a map's count is easy to miss).
import { InvalidArgumentError } from "./errors.js";

export const LABEL_RULES = {
  maxLabels: 16,
  key: /^[a-z][a-z0-9_.-]{0,62}$/,
  maxValueLength: 256,
} as const;

/** The labels, unchanged, or the refusal naming the first that breaks a rule. */
export function checkLabels(field: string, labels: Readonly<Record<string, string>>): Record<string, string> {
  const entries = Object.entries(labels);
  if (entries.length > LABEL_RULES.maxLabels) throw new InvalidArgumentError(field, `at most ${LABEL_RULES.maxLabels} labels`);
  for (const [key, value] of entries) {
    if (!LABEL_RULES.key.test(key)) {
      throw new InvalidArgumentError(`${field}["${key.slice(0, 64)}"]`, "a label key is a lower-case letter then up to 62 of a-z, 0-9, '_', '.', '-'");
    }
    // Characters, not UTF-16 units, as protovalidate and Postgres count them.
    if ([...value].length > LABEL_RULES.maxValueLength) {
      throw new InvalidArgumentError(`${field}["${key}"]`, `a label value is at most ${LABEL_RULES.maxValueLength} characters`);
    }
  }
  return { ...labels };
}

export interface LabelFilter {
  key: string;
  /** Null: any value, as long as the key has the label. */
  value: string | null;
}

/** `team=payments` (that value) or `team` (any value). */
export function parseLabelFilters(field: string, filters: readonly string[]): LabelFilter[] {
  return filters.map((filter, i) => {
    const eq = filter.indexOf("=");
    const key = eq < 0 ? filter : filter.slice(0, eq);
    const value = eq < 0 ? null : filter.slice(eq + 1);
    if (!LABEL_RULES.key.test(key)) throw new InvalidArgumentError(`${field}[${i}]`, "must be key=value or key, the key as labels name them");
    if (value !== null && [...value].length > LABEL_RULES.maxValueLength) {
      throw new InvalidArgumentError(`${field}[${i}]`, `a label value is at most ${LABEL_RULES.maxValueLength} characters`);
    }
    return { key, value };
  });
}
