// The audit log, newest first, a page at a time, filtered by actor, target and
// date, in words: who (a key's name, "Keyward itself") did what ("rotated key
// reporting-job"), when ("3 hours ago"), with ids and absolute times on hover.
import { Code, ConnectError } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { useEffect, useState } from "preact/hooks";
import type { AuditEvent } from "../../../gen/keyward/v1/audit_pb.js";
import { api, explain } from "../api.js";
import type { PageProps } from "../app.js";
import { actionPhrase, parseTarget, type TargetKind } from "../audit-words.js";
import { Pager, useLatestRequest, usePageTokens } from "../paging.js";
import { ErrorText } from "../ui.js";
import { When } from "../time.js";

interface Filters {
  actor: string;
  target: string;
  /** `yyyy-mm-dd` from the date inputs, in the browser's zone; empty = open. */
  from: string;
  to: string;
}
const NO_FILTERS: Filters = { actor: "", target: "", from: "", to: "" };

// Names of keys and policies the page has looked up, across pages and filters:
// a name, null for one deleted since, undefined when it could not be read.
// An audit page names few distinct things, so each is asked for once.
const names = new Map<string, Promise<string | null | undefined>>();
const ID = /^[0-9A-Za-z]{16}$/;

function lookUp(kind: "key" | "policy", id: string): Promise<string | null | undefined> {
  const cacheKey = `${kind}/${id}`;
  let name = names.get(cacheKey);
  if (!name) {
    const read = kind === "key" ? api.keys.adminGetApiKey({ id }).then((r) => r.apiKey?.name) : api.policies.adminGetApiKeyPolicy({ id }).then((r) => r.policy?.name);
    name = read.catch((err) => (ConnectError.from(err).code === Code.NotFound ? null : undefined));
    names.set(cacheKey, name);
  }
  return name;
}

/** Local midnight starting the day `date` (`yyyy-mm-dd`), `days` days on. */
function dayStart(date: string, days = 0): Date {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(y!, m! - 1, d! + days);
}

export function AuditPage(_: PageProps) {
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [resolved, setResolved] = useState<Map<string, string | null | undefined>>(new Map());
  const [filters, setFilters] = useState(NO_FILTERS);
  const [typed, setTyped] = useState(NO_FILTERS);
  const [pageSize, setPageSize] = useState(50);
  const paging = usePageTokens();
  const beginRequest = useLatestRequest();
  const [error, setError] = useState<string>();

  async function load() {
    const current = beginRequest();
    try {
      const page = await api.audit.adminListAuditEvents({
        pageSize,
        pageToken: paging.token,
        actorKeyId: filters.actor.trim(),
        target: filters.target.trim(),
        startTime: filters.from ? timestampFromDate(dayStart(filters.from)) : undefined,
        // Through the whole of the "to" day: the end is exclusive.
        endTime: filters.to ? timestampFromDate(dayStart(filters.to, 1)) : undefined,
      });
      // The page's keys and policies, named before the page shows.
      const wanted = new Set<string>();
      for (const e of page.auditEvents) {
        if (ID.test(e.actorKeyId)) wanted.add(`key/${e.actorKeyId}`);
        const t = parseTarget(e.target);
        if (t && (t.kind === "key" || t.kind === "policy") && ID.test(t.id)) wanted.add(`${t.kind}/${t.id}`);
      }
      const found = new Map<string, string | null | undefined>();
      await Promise.all(
        [...wanted].map(async (w) => {
          const [kind, id] = w.split("/") as ["key" | "policy", string];
          found.set(w, await lookUp(kind, id));
        }),
      );
      if (!current()) return;
      setResolved(found);
      setEvents(page.auditEvents);
      paging.received(page.nextPageToken);
      setError(undefined);
    } catch (err) {
      if (current()) setError(explain(err));
    }
  }
  useEffect(() => void load(), [filters, pageSize, paging.index]);

  /** "key reporting-job", "deleted key abc…", or the kind and id when the name could not be read. */
  function named(kind: TargetKind, id: string): string {
    const name = resolved.get(`${kind}/${id}`);
    if (name === null) return `deleted ${kind} ${id}`;
    return `${kind} ${name ?? id}`;
  }
  function actorOf(e: AuditEvent): string {
    if (!e.actorKeyId) return "Keyward itself";
    const name = resolved.get(`key/${e.actorKeyId}`);
    return name === null ? `deleted key ${e.actorKeyId}` : (name ?? e.actorKeyId);
  }
  function phraseOf(e: AuditEvent): string {
    const t = parseTarget(e.target);
    return actionPhrase(e.action, t ? named(t.kind, t.id) : e.target);
  }

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(typed);
          paging.restart();
        }}
      >
        <label for="audit-actor">Actor key id</label>
        <input id="audit-actor" value={typed.actor} onInput={(e) => setTyped({ ...typed, actor: e.currentTarget.value })} />
        <label for="audit-target">Target (e.g. api_keys/…)</label>
        <input id="audit-target" value={typed.target} onInput={(e) => setTyped({ ...typed, target: e.currentTarget.value })} />
        <label for="audit-from">From</label>
        <input id="audit-from" type="date" value={typed.from} onInput={(e) => setTyped({ ...typed, from: e.currentTarget.value })} />
        <label for="audit-to">To</label>
        <input id="audit-to" type="date" value={typed.to} onInput={(e) => setTyped({ ...typed, to: e.currentTarget.value })} />
        <button type="submit">Filter</button>
      </form>
      <ErrorText error={error} />
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
            <th scope="col">Outcome</th>
            <th scope="col">From</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.id}>
              <td>
                <When time={e.createTime} />
              </td>
              <td>
                <span title={e.actorKeyId || undefined}>{actorOf(e)}</span>
                {/* Who acted when no key did: a leak report's signer, source and URL. */}
                {e.detail && <div class="muted">{e.detail}</div>}
              </td>
              <td>
                <span title={[e.action, e.target].filter(Boolean).join(" ")}>{phraseOf(e)}</span>
                {e.changedFields.length > 0 && <div class="muted">{e.changedFields.join(", ")}</div>}
              </td>
              <td>{e.outcome}</td>
              <td>{e.clientIp}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager paging={paging} shown={events.length} pageSize={pageSize} noun="events" onPageSize={setPageSize} />
    </section>
  );
}
