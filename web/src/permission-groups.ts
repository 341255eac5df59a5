// Grouping permissions for display: by service (the first segment), then by
// the prefix a permission sits under, so deeper names (billing.invoices.read)
// gather under billing.invoices and two-segment names (orders.read) sit
// directly under their service.

/** The prefix a permission sits under: its name without the last segment. */
export const parentOf = (name: string): string => name.slice(0, name.lastIndexOf("."));

/**
 * The intermediate prefixes (two segments or more) that some permission sits
 * under, in name order: each can be granted as a pattern, `prefix.*`.
 */
export function patternPrefixes(names: readonly string[]): string[] {
  const prefixes = new Set<string>();
  for (const name of names) {
    const segments = name.split(".");
    for (let n = 2; n < segments.length; n++) prefixes.add(segments.slice(0, n).join("."));
  }
  return [...prefixes].sort();
}
