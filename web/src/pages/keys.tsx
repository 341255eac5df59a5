// API keys: list with state, policy, service, expiry and last use; filter;
// create (credentials shown once); rotate, retire, delete.
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { useEffect, useState } from "preact/hooks";
import { ApiKeyState, ConstraintType, type ApiKey } from "../../../gen/keyward/v1/api_keys_pb.js";
import type { Policy } from "../../../gen/keyward/v1/policies_pb.js";
import { api, explain, fieldError, signedInKeyId } from "../api.js";
import type { PageProps } from "../app.js";
import { Confirm, ErrorText, FieldError, FormActions, Modal, formatTime } from "../ui.js";
import { LimitInputs, creditsOf, describeCredits, describeRateLimits, emptyLimitFields, limitFieldsOf, rateLimitsOf } from "../limits.js";

const SOON_MS = 30 * 86_400_000;

export function KeysPage(props: PageProps) {
  const [keys, setKeys] = useState<ApiKey[]>([]);
  const [policies, setPolicies] = useState<Policy[]>([]);
  const [policyFilter, setPolicyFilter] = useState("");
  const [stateFilter, setStateFilter] = useState<ApiKeyState>(ApiKeyState.UNSPECIFIED);
  const [error, setError] = useState<string>();
  const [creating, setCreating] = useState(false);
  const [credentials, setCredentials] = useState<{ title: string; value: string }>();
  const [rotating, setRotating] = useState<ApiKey>();
  const [limiting, setLimiting] = useState<ApiKey>();
  const [confirming, setConfirming] = useState<{ key: ApiKey; action: "Retire" | "Delete" }>();

  async function load() {
    try {
      const [k, p] = await Promise.all([
        api.keys.adminListApiKeys({ pageSize: 1000, policyId: policyFilter, state: stateFilter }),
        // The list is paged (default 50); the dashboard shows up to 1,000, as it does keys.
        api.policies.adminGetApiKeyPolicies({ pageSize: 1000 }),
      ]);
      setKeys(k.apiKeys);
      setPolicies(p.policies);
      setError(undefined);
    } catch (err) {
      setError(explain(err));
    }
  }
  useEffect(() => void load(), [policyFilter, stateFilter]);

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
      <div class="filters">
        <label for="filter-policy">Policy</label>
        <select id="filter-policy" value={policyFilter} onChange={(e) => setPolicyFilter(e.currentTarget.value)}>
          <option value="">All policies</option>
          {policies.map((p) => (
            <option value={p.id}>{p.name}</option>
          ))}
        </select>
        <label for="filter-state">State</label>
        <select id="filter-state" value={String(stateFilter)} onChange={(e) => setStateFilter(Number(e.currentTarget.value) as ApiKeyState)}>
          <option value={String(ApiKeyState.UNSPECIFIED)}>Any state</option>
          <option value={String(ApiKeyState.ACTIVE)}>Active</option>
          <option value={String(ApiKeyState.RETIRED)}>Retired</option>
        </select>
      </div>
      <ErrorText error={error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">State</th>
            <th scope="col">Policy</th>
            <th scope="col">Service</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">Limits</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => {
            const expires = k.expireTime ? timestampDate(k.expireTime) : undefined;
            const soon = expires !== undefined && expires.getTime() - Date.now() < SOON_MS;
            const retired = k.state === ApiKeyState.RETIRED;
            return (
              <tr key={k.id} data-key-id={k.id}>
                <td>
                  <strong>{k.name}</strong>
                  <div class="muted">{k.id}</div>
                </td>
                <td class="state" data-label="State">{retired ? "Retired" : "Active"}</td>
                <td data-label="Policy">{policyName(k.policyId)}</td>
                <td class="service" data-label="Service">{k.service || <span class="muted">none</span>}</td>
                <td data-label="Expires">
                  {formatTime(expires)}
                  {soon && !retired && <span class="chip warn">expires soon</span>}
                </td>
                <td data-label="Last used">{formatTime(k.lastUsedTime ? timestampDate(k.lastUsedTime) : undefined)}</td>
                <td class="limits" data-label="Limits">
                  {[describeRateLimits(k.rateLimits), describeCredits(k.credits)].filter(Boolean).join("; ") || <span class="muted">none</span>}
                </td>
                <td class="row-actions">
                  {!retired && (
                    <>
                      <button type="button" onClick={() => setLimiting(k)} aria-label={`Limits of ${k.name}`}>
                        Limits
                      </button>
                      <button type="button" onClick={() => setRotating(k)} aria-label={`Rotate ${k.name}`}>
                        Rotate
                      </button>
                      <button type="button" onClick={() => setConfirming({ key: k, action: "Retire" })} aria-label={`Retire ${k.name}`}>
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
      {creating && (
        <KeyForm
          policies={policies}
          onCreated={showCredentials("API key created", () => setCreating(false))}
          onCancel={() => setCreating(false)}
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
      {credentials && <CredentialsDialog title={credentials.title} value={credentials.value} onClose={() => setCredentials(undefined)} />}
    </section>
  );
}

/** Shows the credentials exactly once; nothing keeps them after the dialog closes. */
function CredentialsDialog(props: { title: string; value: string; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <Modal title={props.title} onClose={props.onClose}>
      <p class="warning" role="alert">
        Copy these credentials now. They cannot be shown again.
      </p>
      <label for="credentials">Credentials</label>
      <input id="credentials" readOnly value={props.value} onFocus={(e) => e.currentTarget.select()} />
      <div class="actions">
        <button
          type="button"
          onClick={async () => {
            await navigator.clipboard.writeText(props.value);
            setCopied(true);
          }}
        >
          Copy
        </button>
        <button type="button" onClick={props.onClose}>
          Done
        </button>
      </div>
      {copied && <p role="status">Copied to the clipboard.</p>}
    </Modal>
  );
}

interface ConstraintRow {
  type: ConstraintType;
  value: string;
}

const CONSTRAINT_TYPES: Array<[ConstraintType, string]> = [
  [ConstraintType.EXACT, "Exact path"],
  [ConstraintType.PREFIX, "Path prefix"],
  [ConstraintType.REGEX, "Path regex"],
  [ConstraintType.VERB, "HTTP methods"],
];

function KeyForm(props: { policies: Policy[]; onCreated: (credentials: string) => void; onCancel: () => void }) {
  const [name, setName] = useState("");
  const [policyId, setPolicyId] = useState(props.policies[0]?.id ?? "");
  const [expiry, setExpiry] = useState(new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10));
  const [subnets, setSubnets] = useState("");
  const [service, setService] = useState("");
  const [constraints, setConstraints] = useState<ConstraintRow[]>([]);
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
        allowedSubnets: subnets.split(/[\s,]+/).filter(Boolean),
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

  const errorFor = (prefix: string) => Object.entries(errors).find(([f]) => f === prefix || f.startsWith(`${prefix}[`) || f.startsWith(`${prefix}.`))?.[1];

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
        <fieldset>
          <legend>Constraints (optional; a request passes if it matches any)</legend>
          {constraints.map((c, i) => (
            <div class="constraint-row">
              <label for={`constraint-type-${i}`}>Type</label>
              <select
                id={`constraint-type-${i}`}
                value={String(c.type)}
                onChange={(e) => setConstraints(constraints.map((x, j) => (j === i ? { ...x, type: Number(e.currentTarget.value) as ConstraintType } : x)))}
              >
                {CONSTRAINT_TYPES.map(([t, label]) => (
                  <option value={String(t)}>{label}</option>
                ))}
              </select>
              <label for={`constraint-value-${i}`}>Value</label>
              <input
                id={`constraint-value-${i}`}
                value={c.value}
                onInput={(e) => setConstraints(constraints.map((x, j) => (j === i ? { ...x, value: e.currentTarget.value } : x)))}
              />
              <button type="button" onClick={() => setConstraints(constraints.filter((_, j) => j !== i))} aria-label={`Remove constraint ${i + 1}`}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" onClick={() => setConstraints([...constraints, { type: ConstraintType.PREFIX, value: "" }])}>
            Add constraint
          </button>
        </fieldset>
        <FieldError id="key-constraints-error" message={errorFor("constraints")} />
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
  const errorFor = (prefix: string) => Object.entries(errors).find(([f]) => f === prefix || f.startsWith(`${prefix}[`) || f.startsWith(`${prefix}.`))?.[1];
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
