// Paging through a list RPC with its page tokens: next follows the token the
// last page gave, previous goes back to the token that first reached that
// page (the API cannot page backwards), so nothing loads more than a page.
import { useRef, useState } from "preact/hooks";

export interface PageTokens {
  /** The token to ask for the current page with ("" for the first). */
  token: string;
  /** The page asked for; 0 for the first. */
  index: number;
  /** The page shown (behind `index` while the asked-for one loads). */
  shownIndex: number;
  hasNext: boolean;
  /** Records that the page asked for (in the render that called this) arrived, and its `next_page_token`. */
  received(nextPageToken: string): void;
  forward(): void;
  back(): void;
  /** Back to the first page (new filters or page size). */
  restart(): void;
}

export function usePageTokens(): PageTokens {
  // tokens[i] is the token of page i.
  const [tokens, setTokens] = useState<string[]>([""]);
  const [index, setIndex] = useState(0);
  const [next, setNext] = useState("");
  const [shownIndex, setShownIndex] = useState(0);
  return {
    token: tokens[index] ?? "",
    index,
    shownIndex,
    hasNext: next !== "",
    received: (nextPageToken) => {
      setNext(nextPageToken);
      setShownIndex(index);
    },
    forward: () => {
      setTokens([...tokens.slice(0, index + 1), next]);
      setIndex(index + 1);
    },
    back: () => setIndex(Math.max(0, index - 1)),
    restart: () => {
      setTokens([""]);
      setIndex(0);
    },
  };
}

/** Previous / "Page 2 (keys 51–100)" / Next, and the page size. */
export function Pager(props: { paging: PageTokens; shown: number; pageSize: number; noun: string; onPageSize: (size: number) => void }) {
  const { paging, shown, pageSize } = props;
  const first = paging.shownIndex * pageSize + 1;
  // While a page loads, the buttons wait: a second click would skip a page.
  const loading = paging.index !== paging.shownIndex;
  return (
    <nav class="pager" aria-label={`Pages of ${props.noun}`}>
      <button type="button" class="secondary" disabled={loading || paging.index === 0} onClick={paging.back}>
        Previous
      </button>
      <span role="status">
        Page {paging.shownIndex + 1}
        {shown > 0 ? ` (${props.noun} ${first}–${first + shown - 1})` : ` (no ${props.noun})`}
      </span>
      <button type="button" class="secondary" disabled={loading || !paging.hasNext} onClick={paging.forward}>
        Next
      </button>
      <label for={`page-size-${props.noun}`}>Per page</label>
      <select
        id={`page-size-${props.noun}`}
        value={String(pageSize)}
        onChange={(e) => {
          props.onPageSize(Number(e.currentTarget.value));
          paging.restart();
        }}
      >
        {[25, 50, 100, 200].map((n) => (
          <option value={String(n)}>{n}</option>
        ))}
      </select>
    </nav>
  );
}

/**
 * For lists reloaded on every filter change: `begin()` marks a new request and
 * returns a check that is true only while no later request has begun, so a slow
 * answer to old filters never replaces the answer to the new ones.
 */
export function useLatestRequest(): () => () => boolean {
  const latest = useRef(0);
  return () => {
    const mine = ++latest.current;
    return () => mine === latest.current;
  };
}
