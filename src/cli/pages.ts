// Listing RPCs answer a page at a time; a listing command prints every item
// (or the first `limit`), so a script never mistakes one page for the whole.
const MAX_PAGE = 1000;

export interface Page<T> {
  items: T[];
  nextPageToken: string;
}

/** Asks for pages until the last one, or until `limit` items; the token is where a later call would go on. */
export async function everyPage<T>(limit: number | undefined, fetch: (pageSize: number, pageToken: string) => Promise<Page<T>>): Promise<Page<T>> {
  const items: T[] = [];
  let pageToken = "";
  do {
    const page = await fetch(Math.min(limit === undefined ? MAX_PAGE : limit - items.length, MAX_PAGE), pageToken);
    items.push(...page.items);
    pageToken = page.nextPageToken;
  } while (pageToken !== "" && (limit === undefined || items.length < limit));
  return { items, nextPageToken: pageToken };
}
