// The audit log, newest first, a page at a time, filtered by actor and target.
import { useEffect, useState } from "preact/hooks";
import type { AuditEvent } from "../../../gen/keyward/v1/audit_pb.js";
import { api, explain } from "../api.js";
import type { PageProps } from "../app.js";
import { ErrorText } from "../ui.js";
import { When } from "../time.js";

export function AuditPage(_: PageProps) {
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [next, setNext] = useState("");
  const [actor, setActor] = useState("");
  const [target, setTarget] = useState("");
  const [error, setError] = useState<string>();

  async function load(pageToken = "") {
    try {
      const page = await api.audit.adminListAuditEvents({ pageSize: 50, pageToken, actorKeyId: actor.trim(), target: target.trim() });
      setEvents(pageToken ? [...events, ...page.auditEvents] : page.auditEvents);
      setNext(page.nextPageToken);
      setError(undefined);
    } catch (err) {
      setError(explain(err));
    }
  }
  useEffect(() => void load(), []);

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form class="filters" onSubmit={(e) => (e.preventDefault(), void load())}>
        <label for="audit-actor">Actor key id</label>
        <input id="audit-actor" value={actor} onInput={(e) => setActor(e.currentTarget.value)} />
        <label for="audit-target">Target (e.g. api_keys/…)</label>
        <input id="audit-target" value={target} onInput={(e) => setTarget(e.currentTarget.value)} />
        <button type="submit">Filter</button>
      </form>
      <ErrorText error={error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Outcome</th>
            <th scope="col">Actor</th>
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
                {e.action}
                {e.changedFields.length > 0 && <div class="muted">{e.changedFields.join(", ")}</div>}
              </td>
              <td>{e.target}</td>
              <td>{e.outcome}</td>
              <td>
                {e.actorKeyId || "—"}
                {/* Who acted when no key did: a leak report's signer, source and URL. */}
                {e.detail && <div class="muted">{e.detail}</div>}
              </td>
              <td>{e.clientIp}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {next && (
        <button type="button" onClick={() => void load(next)}>
          Load more
        </button>
      )}
    </section>
  );
}
