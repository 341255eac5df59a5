// Webhook endpoints: list, create (the signing secret shown once), delete
// (confirmed), each endpoint's recent deliveries with their attempts, a
// disabled endpoint's warning and Enable, and Rotate secret with an overlap.
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { useEffect, useState } from "preact/hooks";
import { WebhookDeliveryState, type WebhookDelivery, type WebhookEndpoint } from "../../../gen/keyward/v1/webhooks_pb.js";
import { api, explain, fieldError } from "../api.js";
import { EVENT_TYPES } from "../event-types.js";
import { errorLookup } from "../key-fields.js";
import { When } from "../time.js";
import { Confirm, ErrorText, FieldError, FormActions, Modal, ShownOnce } from "../ui.js";

export function WebhooksPage() {
  const [endpoints, setEndpoints] = useState<WebhookEndpoint[]>([]);
  const [error, setError] = useState<string>();
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ title: string; value: string }>();
  const [rotating, setRotating] = useState<WebhookEndpoint>();
  const [deleting, setDeleting] = useState<WebhookEndpoint>();
  const [viewing, setViewing] = useState<WebhookEndpoint>();

  async function load() {
    try {
      setEndpoints((await api.webhooks.adminListWebhookEndpoints({})).webhookEndpoints);
      setError(undefined);
    } catch (err) {
      setError(explain(err));
    }
  }
  useEffect(() => void load(), []);

  async function remove(endpoint: WebhookEndpoint) {
    setDeleting(undefined);
    try {
      await api.webhooks.adminDeleteWebhookEndpoint({ id: endpoint.id });
      await load();
    } catch (err) {
      setError(explain(err));
    }
  }

  async function enable(endpoint: WebhookEndpoint) {
    try {
      await api.webhooks.adminEnableWebhookEndpoint({ id: endpoint.id });
      await load();
    } catch (err) {
      setError(explain(err));
    }
  }

  return (
    <section aria-labelledby="webhooks-title">
      <div class="toolbar">
        <h1 id="webhooks-title">Webhooks</h1>
        <button type="button" onClick={() => setCreating(true)}>
          New endpoint
        </button>
      </div>
      <p class="hint">Keyward POSTs signed events (Standard Webhooks) to these URLs; verify each with the endpoint's signing secret.</p>
      <ErrorText error={error} />
      <table>
        <thead>
          <tr>
            <th scope="col">URL</th>
            <th scope="col">Events</th>
            <th scope="col">Created</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {endpoints.map((e) => (
            <tr key={e.id} data-endpoint-id={e.id} class={e.disableTime ? "disabled" : undefined}>
              <td class="url">
                <code>{e.url}</code>
                {/* Keyward stopped sending to it after every delivery failed for days: nothing reaches it until enabled. */}
                {e.disableTime && (
                  <div>
                    <span class="chip warn">
                      disabled <When time={e.disableTime} />
                    </span>
                  </div>
                )}
              </td>
              <td data-label="Events">{e.eventTypes.length ? e.eventTypes.map((t) => <span class="chip">{t}</span>) : <span class="muted">all events</span>}</td>
              <td data-label="Created">
                <When time={e.createTime} />
              </td>
              <td class="row-actions">
                <button type="button" class="secondary" onClick={() => setViewing(e)} aria-label={`Deliveries to ${e.url}`}>
                  Deliveries
                </button>
                {e.disableTime && (
                  <button type="button" onClick={() => void enable(e)} aria-label={`Enable ${e.url}`}>
                    Enable
                  </button>
                )}
                <button type="button" class="secondary" onClick={() => setRotating(e)} aria-label={`Rotate secret of ${e.url}`}>
                  Rotate secret
                </button>
                <button type="button" class="danger" onClick={() => setDeleting(e)} aria-label={`Delete ${e.url}`}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {endpoints.length === 0 && !error && <p class="muted">No endpoints yet.</p>}
      {creating && (
        <EndpointForm
          onCreated={async (value) => {
            setCreating(false);
            setSecret({ title: "Endpoint created", value });
            await load();
          }}
          onCancel={() => setCreating(false)}
        />
      )}
      {rotating && (
        <RotateSecretForm
          endpoint={rotating}
          onRotated={(value) => {
            setRotating(undefined);
            setSecret({ title: "Secret rotated", value });
          }}
          onCancel={() => setRotating(undefined)}
        />
      )}
      {secret && <ShownOnce title={secret.title} label="Signing secret" value={secret.value} onClose={() => setSecret(undefined)} />}
      {deleting && (
        <Confirm
          title="Delete this endpoint?"
          message={`Keyward stops sending events to ${deleting.url} at once; deliveries still pending for it are dropped.`}
          action="Delete"
          onConfirm={() => void remove(deleting)}
          onCancel={() => setDeleting(undefined)}
        />
      )}
      {viewing && <Deliveries endpoint={viewing} onClose={() => setViewing(undefined)} />}
    </section>
  );
}

function EndpointForm(props: { onCreated: (secret: string) => void; onCancel: () => void }) {
  const [url, setUrl] = useState("https://");
  const [types, setTypes] = useState<string[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const errorFor = errorLookup(errors);
  async function submit(e: Event) {
    e.preventDefault();
    setErrors({});
    setError(undefined);
    try {
      const created = await api.webhooks.adminCreateWebhookEndpoint({ url: url.trim(), eventTypes: types });
      props.onCreated(created.secret);
    } catch (err) {
      const f = fieldError(err);
      if (f) setErrors({ [f.field]: f.message });
      else setError(explain(err));
    }
  }
  return (
    <Modal title="New webhook endpoint" onClose={props.onCancel}>
      <form onSubmit={submit}>
        <label for="endpoint-url">URL</label>
        <input id="endpoint-url" type="url" required value={url} onInput={(e) => setUrl(e.currentTarget.value)} aria-describedby="endpoint-url-error" />
        <FieldError id="endpoint-url-error" message={errorFor("url")} />
        <fieldset>
          <legend>Events (none checked: all of them)</legend>
          {EVENT_TYPES.map((t) => (
            <label class="check">
              <input
                type="checkbox"
                checked={types.includes(t)}
                onChange={(e) => setTypes(e.currentTarget.checked ? [...types, t] : types.filter((x) => x !== t))}
              />{" "}
              {t}
            </label>
          ))}
        </fieldset>
        <FieldError id="endpoint-events-error" message={errorFor("event_types")} />
        <ErrorText error={error} />
        <FormActions submit="Create" onCancel={props.onCancel} />
      </form>
    </Modal>
  );
}

const HOUR_MS = 3_600_000;
/** How long the old secret keeps signing beside the new one (the API allows up to 7 days). */
const OVERLAPS: ReadonlyArray<{ label: string; ms: number }> = [
  { label: "None: the old secret stops at once", ms: 0 },
  { label: "1 hour", ms: HOUR_MS },
  { label: "24 hours", ms: 24 * HOUR_MS },
  { label: "7 days", ms: 7 * 24 * HOUR_MS },
];

/** Asks how long the old secret overlaps, says what happens, and rotates only on the explicit button. */
function RotateSecretForm(props: { endpoint: WebhookEndpoint; onRotated: (secret: string) => void; onCancel: () => void }) {
  const [overlapMs, setOverlapMs] = useState(HOUR_MS);
  const [error, setError] = useState<string>();
  async function submit(e: Event) {
    e.preventDefault();
    setError(undefined);
    try {
      const rotated = await api.webhooks.adminRotateWebhookEndpointSecret({ id: props.endpoint.id, overlap: durationFromMs(overlapMs) });
      props.onRotated(rotated.secret);
    } catch (err) {
      setError(explain(err));
    }
  }
  return (
    <Modal title="Rotate this endpoint's secret?" onClose={props.onCancel}>
      <form onSubmit={submit}>
        <p>
          Keyward signs deliveries to <code>{props.endpoint.url}</code> with a new secret from now on. During the overlap each delivery also carries a signature by the old secret, so the receiver can switch
          without dropping events; after it, the old secret verifies nothing.
        </p>
        <label for="rotate-overlap">Overlap</label>
        <select id="rotate-overlap" value={String(overlapMs)} onChange={(e) => setOverlapMs(Number(e.currentTarget.value))}>
          {OVERLAPS.map((o) => (
            <option value={String(o.ms)}>{o.label}</option>
          ))}
        </select>
        <ErrorText error={error} />
        <FormActions submit="Rotate" onCancel={props.onCancel} />
      </form>
    </Modal>
  );
}

const STATES: Record<WebhookDeliveryState, string> = {
  [WebhookDeliveryState.UNSPECIFIED]: "Unknown",
  [WebhookDeliveryState.PENDING]: "Pending",
  [WebhookDeliveryState.DELIVERED]: "Delivered",
  [WebhookDeliveryState.FAILED]: "Failed",
};

/** The endpoint's most recent deliveries, newest first, with a refresh. */
function Deliveries(props: { endpoint: WebhookEndpoint; onClose: () => void }) {
  const [deliveries, setDeliveries] = useState<WebhookDelivery[]>();
  const [error, setError] = useState<string>();
  async function load() {
    try {
      setDeliveries((await api.webhooks.adminListWebhookDeliveries({ id: props.endpoint.id, pageSize: 50 })).webhookDeliveries);
      setError(undefined);
    } catch (err) {
      setError(explain(err));
    }
  }
  useEffect(() => void load(), []);
  return (
    <Modal title={`Deliveries to ${props.endpoint.url}`} onClose={props.onClose}>
      <ErrorText error={error} />
      {deliveries?.length === 0 && <p class="muted">Nothing sent yet.</p>}
      {deliveries && deliveries.length > 0 && (
        <table class="deliveries">
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">State</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last answer</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {deliveries.map((d) => (
              <tr key={d.id} class={d.state === WebhookDeliveryState.FAILED ? "failed" : undefined}>
                <td>
                  {d.eventType}
                  <div class="muted">{d.id}</div>
                </td>
                <td class="state" data-label="State">
                  {STATES[d.state]}
                </td>
                <td class="attempts" data-label="Attempts">
                  {d.attempts}
                </td>
                <td class="last" data-label="Last answer">
                  {d.lastStatusCode ? `HTTP ${d.lastStatusCode}` : d.attempts ? "no answer" : ""}
                  {d.lastError && <div class="error">{d.lastError}</div>}
                </td>
                <td data-label="When">
                  created <When time={d.createTime} />
                  {d.deliverTime && (
                    <div>
                      delivered <When time={d.deliverTime} />
                    </div>
                  )}
                  {d.state === WebhookDeliveryState.PENDING && d.nextAttemptTime && (
                    <div>
                      next attempt <When time={d.nextAttemptTime} />
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="actions">
        <button type="button" class="secondary" onClick={() => void load()}>
          Refresh
        </button>
        <button type="button" class="secondary" onClick={props.onClose}>
          Close
        </button>
      </div>
    </Modal>
  );
}
