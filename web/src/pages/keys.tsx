// API keys: a page at a time (page tokens, next and previous) of the keys the
// search and filters select, in the order the server sorts them; a key's detail view
// and edit form; create (credentials shown once); rotate, retire, delete.
import { durationFromMs, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { useEffect, useState } from "preact/hooks";
import { ApiKeyOrder, ApiKeyState, type ApiKey } from "../../../gen/keyward/v1/api_keys_pb.js";
import type { Policy } from "../../../gen/keyward/v1/policies_pb.js";
import { api, explain, fieldError, signedInKeyId } from "../api.js";
import type { PageProps } from "../app.js";
import { ConstraintsInput, errorLookup, labelsOf, subnetsOf, type ConstraintRow } from "../key-fields.js";
import { LimitInputs, creditsOf, describeCredits, describeRateLimits, emptyLimitFields, limitFieldsOf, rateLimitsOf } from "../limits.js";
import { When, relativeTime } from "../time.js";
import { Confirm, ErrorText, FieldError, FormActions, Modal, ShownOnce } from "../ui.js";
import { Pager, useLatestRequest, usePageTokens } from "../paging.js";
import { KeyDetail } from "./key-detail.js";

/** A key expiring within this stands out in the list. */
const SOON_MS = 7 * 86_400_000;
const DAY_MS = 86_400_000;
/**
 * An active key unused for this long (or never used since it was created that
 * long ago) is marked idle: a candidate to retire. The dashboard does not know
 * KEYWARD_IDLE_RETIRE_AFTER; 30 days is the common review horizon.
 */
const IDLE_MS = 30 * DAY_MS;
/** A key id's shape (16 letters and digits): a search for one also looks the key up by id. */
const KEY_ID = /^[0-9A-Za-z]{16}$/;

interface Filters {
  nameContains: string;
  service: string;
  label: string;
  policyId: string;
  state: ApiKeyState;
  expiringWithinDays: number;
  idleForDays: number;
}
const NO_FILTERS: Filters = { nameContains: "", service: "", label: "", policyId: "", state: ApiKeyState.UNSPECIFIED, expiringWithinDays: 0, idleForDays: 0 };

// The server sorts the whole list (so paging keeps the order) by these columns;
// the others are headings only.
const COLUMNS: Array<[string, ApiKeyOrder | undefined]> = [
  ["Name", ApiKeyOrder.NAME],
  ["State", undefined],
  ["Policy", undefined],
  ["Service", undefined],
  ["Expires", ApiKeyOrder.EXPIRE_TIME],
  ["Last used", ApiKeyOrder.LAST_USED_TIME],
];

export function KeysPage(props: PageProps) {
  const [keys, setKeys] = useState<ApiKey[]>([]);
  const [policies, setPolicies] = useState<Policy[]>([]);
  const [filters, setFilters] = useState(NO_FILTERS);
  // The text filters as typed; applied (a server round trip) on Search.
  const [typed, setTyped] = useState({ nameContains: "", service: "", label: "" });
  const [pageSize, setPageSize] = useState(50);
  const paging = usePageTokens();
  const beginRequest = useLatestRequest();
  // Unset: the server's default, creation order.
  const [sort, setSort] = useState<{ orderBy: ApiKeyOrder; descending: boolean }>();
  const [error, setError] = useState<string>();
  const [creating, setCreating] = useState(false);
  const [credentials, setCredentials] = useState<{ title: string; value: string }>();
  const [rotating, setRotating] = useState<ApiKey>();
  const [limiting, setLimiting] = useState<ApiKey>();
  const [viewing, setViewing] = useState<ApiKey>();
  const [confirming, setConfirming] = useState<{ key: ApiKey; action: "Retire" | "Delete" }>();

  async function load() {
    const current = beginRequest();
    try {
      const [k, p] = await Promise.all([
        api.keys.adminListApiKeys({
          pageSize,
          pageToken: paging.token,
          orderBy: sort?.orderBy,
          descending: sort?.descending,
          nameContains: filters.nameContains,
          service: filters.service,
          label: filters.label ? [filters.label] : [],
          policyId: filters.policyId,
          state: filters.state,
          expiringWithin: filters.expiringWithinDays ? durationFromMs(filters.expiringWithinDays * DAY_MS) : undefined,
          idleFor: filters.idleForDays ? durationFromMs(filters.idleForDays * DAY_MS) : undefined,
        }),
        // Policies name the keys' policies and fill the filter; the dashboard reads up to 1,000.
        api.policies.adminGetApiKeyPolicies({ pageSize: 1000 }),
      ]);
      // Searching for an id finds that key too, on the first page (names rarely look like ids).
      const byId =
        KEY_ID.test(filters.nameContains) && paging.index === 0
          ? await api.keys.adminGetApiKey({ id: filters.nameContains }).then(
              (r) => r.apiKey,
              (err: unknown) => {
                if (ConnectError.from(err).code === Code.NotFound) return undefined;
                throw err;
              },
            )
          : undefined;
      if (!current()) return;
      setKeys(byId && !k.apiKeys.some((x) => x.id === byId.id) ? [byId, ...k.apiKeys] : k.apiKeys);
      paging.received(k.nextPageToken);
      setPolicies(p.policies);
      setError(undefined);
    } catch (err) {
      if (current()) setError(explain(err));
    }
  }
  useEffect(() => void load(), [filters, pageSize, sort, paging.index]);

  /** New filters start again at the first page. */
  function filter(change: Partial<Filters>) {
    setFilters({ ...filters, ...change });
    paging.restart();
  }

  /** A new order starts again at the first page: a page token only continues its own order. */
  function sortBy(orderBy: ApiKeyOrder) {
    setSort({ orderBy, descending: sort?.orderBy === orderBy ? !sort.descending : false });
    paging.restart();
  }

  // New credentials (create, rotate): close the form, show them once, refresh the list.
  const showCredentials = (title: string, closeForm: () => void) => async (value: string) => {
    closeForm();
    setCredentials({ title, value });
    await load();
  };

  const policyName = (id: string) => policies.find((p) => p.id === id)?.name ?? id;

  async function act(key: ApiKey, action: "Retire" | "Delete") {
    setConfirming(undefined);
    try {
      if (action === "Retire") await api.keys.adminRetireApiKey({ id: key.id });
      else await api.keys.adminDeleteApiKey({ id: key.id });
      if (key.id === signedInKeyId()) return props.onSignedOut();
      await load();
    } catch (err) {
      setError(explain(err));
    }
  }

  return (
    <section aria-labelledby="keys-title">
      <div class="toolbar">
        <h1 id="keys-title">API keys</h1>
        <button type="button" onClick={() => setCreating(true)}>
          New API key
        </button>
      </div>
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          filter({ nameContains: typed.nameContains.trim(), service: typed.service.trim(), label: typed.label.trim() });
        }}
      >
        <div>
          <label for="filter-name">Search by name or id</label>
          <input id="filter-name" type="search" value={typed.nameContains} onInput={(e) => setTyped({ ...typed, nameContains: e.currentTarget.value })} />
        </div>
        <div>
          <label for="filter-service">Service</label>
          <input id="filter-service" value={typed.service} onInput={(e) => setTyped({ ...typed, service: e.currentTarget.value })} />
        </div>
        <div>
          <label for="filter-label">Label (key or key=value)</label>
          <input id="filter-label" value={typed.label} onInput={(e) => setTyped({ ...typed, label: e.currentTarget.value })} />
        </div>
        <button type="submit">Search</button>
        <div>
          <label for="filter-policy">Policy</label>
          <select id="filter-policy" value={filters.policyId} onChange={(e) => filter({ policyId: e.currentTarget.value })}>
            <option value="">All policies</option>
            {policies.map((p) => (
              <option value={p.id}>{p.name}</option>
            ))}
          </select>
        </div>
        <div>
          <label for="filter-state">State</label>
          <select id="filter-state" value={String(filters.state)} onChange={(e) => filter({ state: Number(e.currentTarget.value) as ApiKeyState })}>
            <option value={String(ApiKeyState.UNSPECIFIED)}>Any state</option>
            <option value={String(ApiKeyState.ACTIVE)}>Active</option>
            <option value={String(ApiKeyState.RETIRED)}>Retired</option>
          </select>
        </div>
        <div>
          <label for="filter-expiring">Expires within</label>
          <select id="filter-expiring" value={String(filters.expiringWithinDays)} onChange={(e) => filter({ expiringWithinDays: Number(e.currentTarget.value) })}>
            <option value="0">Any time</option>
            <option value="7">7 days</option>
            <option value="30">30 days</option>
            <option value="90">90 days</option>
          </select>
        </div>
        <div>
          <label for="filter-idle">Idle for</label>
          <select id="filter-idle" value={String(filters.idleForDays)} onChange={(e) => filter({ idleForDays: Number(e.currentTarget.value) })}>
            <option value="0">Any</option>
            <option value="30">30 days or more</option>
            <option value="60">60 days or more</option>
            <option value="90">90 days or more</option>
          </select>
        </div>
      </form>
      <ErrorText error={error} />
      <table>
        <thead>
          <tr>
            {COLUMNS.map(([label, orderBy]) => {
              if (orderBy === undefined) return <th scope="col">{label}</th>;
              const active = sort?.orderBy === orderBy;
              return (
                <th scope="col" aria-sort={active ? (sort.descending ? "descending" : "ascending") : "none"}>
                  <button
                    type="button"
                    class="sort"
                    onClick={() => sortBy(orderBy)}
                    aria-label={`Sort by ${label.toLowerCase()}`}
                  >
                    {label} {active ? (sort.descending ? "▼" : "▲") : ""}
                  </button>
                </th>
              );
            })}
            <th scope="col">Limits</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => {
            const expires = k.expireTime ? timestampDate(k.expireTime) : undefined;
            const retired = k.state === ApiKeyState.RETIRED;
            const soon = !retired && expires !== undefined && expires.getTime() - Date.now() < SOON_MS;
            const lastUsed = k.lastUsedTime ? timestampDate(k.lastUsedTime) : undefined;
            const idleSince = lastUsed ?? (k.createTime ? timestampDate(k.createTime) : undefined);
            const idle = !retired && idleSince !== undefined && Date.now() - idleSince.getTime() > IDLE_MS;
            return (
              <tr key={k.id} data-key-id={k.id} class={retired ? "retired" : soon ? "expiring" : undefined}>
                <td>
                  <strong>{k.name}</strong>
                  <div class="muted">{k.id}</div>
                  {Object.entries(k.labels).map(([name, value]) => (
                    <span class="chip">{value ? `${name}=${value}` : name}</span>
                  ))}
                </td>
                <td class="state" data-label="State">
                  {retired ? <span class="chip retired">Retired</span> : "Active"}
                </td>
                <td data-label="Policy">{policyName(k.policyId)}</td>
                <td class="service" data-label="Service">{k.service || <span class="muted">none</span>}</td>
                <td data-label="Expires">
                  <When time={k.expireTime} />
                  {soon && expires && <span class="chip warn">{expires.getTime() < Date.now() ? "expired" : `expires ${relativeTime(expires)}`}</span>}
                </td>
                <td data-label="Last used">
                  <When time={k.lastUsedTime} />
                  {idle && <span class="chip idle">{lastUsed ? `idle: used ${relativeTime(lastUsed)}` : "idle: never used"}</span>}
                </td>
                <td class="limits" data-label="Limits">
                  {[describeRateLimits(k.rateLimits), describeCredits(k.credits)].filter(Boolean).join("; ") || <span class="muted">none</span>}
                </td>
                <td class="row-actions">
                  <button type="button" class="secondary" onClick={() => setViewing(k)} aria-label={`Details of ${k.name}`}>
                    Details
                  </button>
                  {!retired && (
                    <>
                      <button type="button" class="secondary" onClick={() => setLimiting(k)} aria-label={`Limits of ${k.name}`}>
                        Limits
                      </button>
                      <button type="button" onClick={() => setRotating(k)} aria-label={`Rotate ${k.name}`}>
                        Rotate
                      </button>
                      <button type="button" class="danger" onClick={() => setConfirming({ key: k, action: "Retire" })} aria-label={`Retire ${k.name}`}>
                        Retire
                      </button>
                    </>
                  )}
                  <button type="button" class="danger" onClick={() => setConfirming({ key: k, action: "Delete" })} aria-label={`Delete ${k.name}`}>
                    Delete
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <Pager paging={paging} shown={keys.length} pageSize={pageSize} noun="keys" onPageSize={setPageSize} />
      {creating && (
        <KeyForm
          policies={policies}
          onCreated={showCredentials("API key created", () => setCreating(false))}
          onCancel={() => setCreating(false)}
        />
      )}
      {viewing && (
        <KeyDetail
          apiKey={viewing}
          policies={policies}
          onSaved={async (saved) => {
            setViewing(saved);
            await load();
          }}
          onClose={() => setViewing(undefined)}
        />
      )}
      {rotating && (
        <RotateForm
          apiKey={rotating}
          onRotated={showCredentials("API key rotated", () => setRotating(undefined))}
          onCancel={() => setRotating(undefined)}
        />
      )}
      {limiting && (
        <LimitsForm
          apiKey={limiting}
          onDone={async () => {
            setLimiting(undefined);
            await load();
          }}
          onCancel={() => setLimiting(undefined)}
        />
      )}
      {confirming && (
        <Confirm
          title={`${confirming.action} ${confirming.key.name}?`}
          message={
            (confirming.key.id === signedInKeyId()
              ? `This ${confirming.action === "Retire" ? "retires" : "deletes"} the key you are signed in with; you will be signed out. `
              : "") +
            (confirming.action === "Retire"
              ? "The key stops working at once, on every service, for good. Its record and audit trail remain."
              : "The key and its record are deleted at once. It cannot be undone.")
          }
          action={confirming.action}
          onConfirm={() => void act(confirming.key, confirming.action)}
          onCancel={() => setConfirming(undefined)}
        />
      )}
      {credentials && <ShownOnce title={credentials.title} label="Credentials" value={credentials.value} onClose={() => setCredentials(undefined)} />}
    </section>
  );
}

function KeyForm(props: { policies: Policy[]; onCreated: (credentials: string) => void; onCancel: () => void }) {
  const [name, setName] = useState("");
  const [policyId, setPolicyId] = useState(props.policies[0]?.id ?? "");
  const [expiry, setExpiry] = useState(new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10));
  const [subnets, setSubnets] = useState("");
  const [service, setService] = useState("");
  const [constraints, setConstraints] = useState<ConstraintRow[]>([]);
  const [labels, setLabels] = useState("");
  const [limits, setLimits] = useState(emptyLimitFields());
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();

  async function submit(e: Event) {
    e.preventDefault();
    setErrors({});
    setError(undefined);
    try {
      const created = await api.keys.adminCreateApiKey({
        name,
        policyId,
        // The end of the chosen day, in the admin's time zone.
        expireTime: timestampFromDate(new Date(`${expiry}T23:59:59`)),
        allowedSubnets: subnetsOf(subnets),
        labels: labelsOf(labels),
        constraints,
        service: service.trim(),
        rateLimits: rateLimitsOf(limits),
        credits: creditsOf(limits),
      });
      props.onCreated(created.credentials);
    } catch (err) {
      const f = fieldError(err);
      if (f) setErrors({ [f.field]: f.message });
      else setError(explain(err));
    }
  }

  const errorFor = errorLookup(errors);

  return (
    <Modal title="New API key" onClose={props.onCancel}>
      <form onSubmit={submit}>
        <label for="key-name">Name</label>
        <input id="key-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} aria-describedby="key-name-error" />
        <FieldError id="key-name-error" message={errorFor("name")} />
        <label for="key-policy">Policy</label>
        <select id="key-policy" value={policyId} onChange={(e) => setPolicyId(e.currentTarget.value)} aria-describedby="key-policy-error">
          {props.policies.map((p) => (
            <option value={p.id}>{p.name}</option>
          ))}
        </select>
        <FieldError id="key-policy-error" message={errorFor("policy_id")} />
        <label for="key-expiry">Expires on</label>
        <input id="key-expiry" type="date" required value={expiry} onInput={(e) => setExpiry(e.currentTarget.value)} aria-describedby="key-expiry-error" />
        <FieldError id="key-expiry-error" message={errorFor("expire_time")} />
        <label for="key-service">Service (optional: the service this key belongs to, the only one it may register)</label>
        <input id="key-service" value={service} onInput={(e) => setService(e.currentTarget.value)} aria-describedby="key-service-error" />
        <FieldError id="key-service-error" message={errorFor("service")} />
        <label for="key-subnets">Allowed subnets (optional, one CIDR per line)</label>
        <textarea id="key-subnets" value={subnets} onInput={(e) => setSubnets(e.currentTarget.value)} aria-describedby="key-subnets-error" />
        <FieldError id="key-subnets-error" message={errorFor("allowed_subnets")} />
        <ConstraintsInput value={constraints} onChange={setConstraints} />
        <FieldError id="key-constraints-error" message={errorFor("constraints")} />
        <label for="key-labels">Labels (optional, one key=value per line, e.g. owner=ana)</label>
        <textarea id="key-labels" value={labels} onInput={(e) => setLabels(e.currentTarget.value)} aria-describedby="key-labels-error" />
        <FieldError id="key-labels-error" message={errorFor("labels")} />
        <LimitInputs value={limits} onChange={setLimits} credits errorFor={errorFor} />
        <ErrorText error={error} />
        <FormActions submit="Create" onCancel={props.onCancel} />
      </form>
    </Modal>
  );
}

/** Sets, changes or clears a key's rate limit and credits (empty fields clear them). */
function LimitsForm(props: { apiKey: ApiKey; onDone: () => void; onCancel: () => void }) {
  const initial = limitFieldsOf(props.apiKey.rateLimits, props.apiKey.credits);
  const [limits, setLimits] = useState(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  async function submit(e: Event) {
    e.preventDefault();
    setErrors({});
    setError(undefined);
    // Only what was changed: the credits are not reset by a rate-limit edit, nor a key's other rate limits by a credits edit.
    const paths = [
      ...(limits.rateLimit !== initial.rateLimit || limits.ratePeriod !== initial.ratePeriod ? ["rate_limits"] : []),
      ...(limits.credits !== initial.credits || limits.refillAmount !== initial.refillAmount || limits.refillInterval !== initial.refillInterval ? ["credits"] : []),
    ];
    if (paths.length === 0) return props.onDone();
    try {
      await api.keys.adminUpdateApiKey({
        apiKey: { id: props.apiKey.id, rateLimits: rateLimitsOf(limits), credits: creditsOf(limits) },
        updateMask: { paths },
      });
      props.onDone();
    } catch (err) {
      const f = fieldError(err);
      if (f) setErrors({ [f.field.replace(/^api_key\./, "")]: f.message });
      else setError(explain(err));
    }
  }
  const errorFor = errorLookup(errors);
  return (
    <Modal title={`Limits of ${props.apiKey.name}`} onClose={props.onCancel}>
      <form onSubmit={submit}>
        <LimitInputs value={limits} onChange={setLimits} credits errorFor={errorFor} />
        <ErrorText error={error} />
        <FormActions submit="Save" onCancel={props.onCancel} />
      </form>
    </Modal>
  );
}

function RotateForm(props: { apiKey: ApiKey; onRotated: (credentials: string) => void; onCancel: () => void }) {
  const [hours, setHours] = useState("24");
  const [error, setError] = useState<string>();
  async function submit(e: Event) {
    e.preventDefault();
    try {
      const rotated = await api.keys.adminRotateApiKey({ id: props.apiKey.id, overlap: { seconds: BigInt(Math.round(Number(hours) * 3600)) } });
      props.onRotated(rotated.credentials);
    } catch (err) {
      setError(explain(err));
    }
  }
  return (
    <Modal title={`Rotate ${props.apiKey.name}`} onClose={props.onCancel}>
      <form onSubmit={submit}>
        <label for="rotate-overlap">Hours the current secret keeps working (0 = stop it now)</label>
        <input id="rotate-overlap" type="number" min="0" step="any" required value={hours} onInput={(e) => setHours(e.currentTarget.value)} />
        <ErrorText error={error} />
        <FormActions submit="Rotate" onCancel={props.onCancel} />
      </form>
    </Modal>
  );
}
