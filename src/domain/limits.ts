// Page sizes, the one input bound that is policy rather than shape: a request
// may ask for any page size (proto/ refuses negative ones) and gets at most
// maxPageSize (AIP-158). Every other bound on a field is declared next to it in
// proto/ as a protovalidate rule; the README lists them all.
export const Limits = {
  defaultPageSize: 50,
  maxPageSize: 1_000,
} as const;

/** How many rows a page of a list holds: the size asked for, the default if none, never more than the bound. */
export const pageLimit = (pageSize: number): number => Math.min(pageSize || Limits.defaultPageSize, Limits.maxPageSize);
