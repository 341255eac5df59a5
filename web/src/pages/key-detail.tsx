// One key's detail view (everything the list leaves out: subnets, constraints,
// creator, labels, times, its usage chart) and its edit form, which sends AdminUpdateApiKey with
// an update mask naming only the fields the admin changed.
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { useEffect, useState } from "preact/hooks";
import { ApiKeyState, type ApiKey } from "../../../gen/keyward/v1/api_keys_pb.js";
import type { Policy } from "../../../gen/keyward/v1/policies_pb.js";
import { api, explain, fieldError } from "../api.js";
import { ConstraintsInput, constraintRowsOf, constraintTypeName, errorLookup, labelsOf, labelsText, subnetsOf } from "../key-fields.js";
import { describeCredits, describeRateLimits } from "../limits.js";
import { When } from "../time.js";
import { ErrorText, FieldError, FormActions, Modal } from "../ui.js";
import { UsageChart } from "../usage-chart.js";

export function KeyDetail(props: { apiKey: ApiKey; policies: Policy[]; onSaved: (key: ApiKey) => void; onClose: () => void }) {
  const [editing, setEditing] = useState(false);
  const k = props.apiKey;
  // The creator by name; a creator since deleted (or unreadable) shows as its id alone.
  const [creatorName, setCreatorName] = useState<string>();
  useEffect(() => {
    if (!k.creatorKeyId) return;
    api.keys.adminGetApiKey({ id: k.creatorKeyId }).then(
      (r) => setCreatorName(r.apiKey?.name),
      () => setCreatorName(undefined),
    );
  }, [k.creatorKeyId]);
  if (editing) return <KeyEditForm apiKey={k} policies={props.policies} onSaved={(saved) => (setEditing(false), props.onSaved(saved))} onCancel={() => setEditing(false)} />;
  const policy = props.policies.find((p) => p.id === k.policyId)?.name ?? k.policyId;
  const labels = Object.entries(k.labels);
  const none = <span class="muted">none</span>;
  return (
    <Modal title={`Key ${k.name}`} onClose={props.onClose}>
      <dl class="details">
        <dt>Id</dt>
        <dd>
          <code>{k.id}</code>
        </dd>
        <dt>State</dt>
        <dd>{k.state === ApiKeyState.RETIRED ? "Retired" : "Active"}</dd>
        <dt>Policy</dt>
        <dd>{policy}</dd>
        <dt>Service</dt>
        <dd data-field="service">{k.service || none}</dd>
        <dt>Expires</dt>
        <dd data-field="expires">
          <When time={k.expireTime} />
        </dd>
        <dt>Last used</dt>
        <dd>
          <When time={k.lastUsedTime} />
        </dd>
        <dt>Created</dt>
        <dd>
          <When time={k.createTime} /> by {creatorName && <span data-field="creator-name">{creatorName} </span>}
          <code data-field="creator">{k.creatorKeyId || "bootstrap"}</code>
        </dd>
        {k.retireTime && (
          <>
            <dt>Retired</dt>
            <dd>
              <When time={k.retireTime} />
              {k.retirerKeyId && (
                <>
                  {" "}
                  by <code>{k.retirerKeyId}</code>
                </>
              )}
            </dd>
          </>
        )}
        <dt>Allowed subnets</dt>
        <dd data-field="subnets">{k.allowedSubnets.length ? k.allowedSubnets.map((s) => <span class="chip">{s}</span>) : <span class="muted">any address</span>}</dd>
        <dt>Constraints</dt>
        <dd data-field="constraints">
          {k.constraints.length
            ? k.constraints.map((c) => (
                <span class="chip">
                  {constraintTypeName(c.type)}: {c.value}
                </span>
              ))
            : <span class="muted">any request</span>}
        </dd>
        <dt>Labels</dt>
        <dd data-field="labels">{labels.length ? labels.map(([name, value]) => <span class="chip">{value ? `${name}=${value}` : name}</span>) : none}</dd>
        <dt>Limits</dt>
        <dd>{[describeRateLimits(k.rateLimits), describeCredits(k.credits)].filter(Boolean).join("; ") || none}</dd>
      </dl>
      {/* Its checks per hour, to see at a glance whether it is used and whether it is failing. */}
      <UsageChart apiKeyId={k.id} title={`Usage of ${k.name}`} />
      <div class="actions">
        {k.state !== ApiKeyState.RETIRED && (
          <button type="button" onClick={() => setEditing(true)}>
            Edit
          </button>
        )}
        <button type="button" class="secondary" onClick={props.onClose}>
          Close
        </button>
      </div>
    </Modal>
  );
}

/** yyyy-mm-dd of a time in the admin's zone, what a date input holds. */
const localDay = (d: Date): string => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

function KeyEditForm(props: { apiKey: ApiKey; policies: Policy[]; onSaved: (key: ApiKey) => void; onCancel: () => void }) {
  const k = props.apiKey;
  const initial = {
    name: k.name,
    policyId: k.policyId,
    expiry: k.expireTime ? localDay(timestampDate(k.expireTime)) : "",
    service: k.service,
    subnets: k.allowedSubnets.join("\n"),
    constraints: constraintRowsOf(k.constraints),
    labels: labelsText(k.labels),
  };
  const [form, setForm] = useState(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const set = (change: Partial<typeof initial>) => setForm({ ...form, ...change });
  const errorFor = errorLookup(errors);

  async function submit(e: Event) {
    e.preventDefault();
    setErrors({});
    setError(undefined);
    // Compared as sent, so reformatting (a trailing blank line) is no change.
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    const paths = [
      ...(form.name !== initial.name ? ["name"] : []),
      ...(form.policyId !== initial.policyId ? ["policy_id"] : []),
      ...(form.expiry !== initial.expiry ? ["expire_time"] : []),
      ...(form.service.trim() !== initial.service ? ["service"] : []),
      ...(!same(subnetsOf(form.subnets), k.allowedSubnets) ? ["allowed_subnets"] : []),
      ...(!same(form.constraints, initial.constraints) ? ["constraints"] : []),
      ...(!same(labelsOf(form.labels), labelsOf(initial.labels)) ? ["labels"] : []),
    ];
    if (paths.length === 0) return props.onSaved(k);
    try {
      const { apiKey } = await api.keys.adminUpdateApiKey({
        apiKey: {
          id: k.id,
          name: form.name,
          policyId: form.policyId,
          // The end of the chosen day, in the admin's time zone, as on create.
          expireTime: form.expiry ? timestampFromDate(new Date(`${form.expiry}T23:59:59`)) : undefined,
          service: form.service.trim(),
          allowedSubnets: subnetsOf(form.subnets),
          constraints: form.constraints,
          labels: labelsOf(form.labels),
        },
        updateMask: { paths },
      });
      props.onSaved(apiKey ?? k);
    } catch (err) {
      const f = fieldError(err);
      if (f) setErrors({ [f.field.replace(/^api_key\./, "")]: f.message });
      else setError(explain(err));
    }
  }

  return (
    <Modal title={`Edit ${k.name}`} onClose={props.onCancel}>
      <form onSubmit={submit}>
        <label for="edit-name">Name</label>
        <input id="edit-name" required value={form.name} onInput={(e) => set({ name: e.currentTarget.value })} aria-describedby="edit-name-error" />
        <FieldError id="edit-name-error" message={errorFor("name")} />
        <label for="edit-policy">Policy</label>
        <select id="edit-policy" value={form.policyId} onChange={(e) => set({ policyId: e.currentTarget.value })} aria-describedby="edit-policy-error">
          {props.policies.map((p) => (
            <option value={p.id}>{p.name}</option>
          ))}
        </select>
        <FieldError id="edit-policy-error" message={errorFor("policy_id")} />
        {/* A key without an expiry (a bootstrap key) may be given one; an expiry cannot be removed here. */}
        <label for="edit-expiry">Expires on</label>
        <input id="edit-expiry" type="date" required={initial.expiry !== ""} value={form.expiry} onInput={(e) => set({ expiry: e.currentTarget.value })} aria-describedby="edit-expiry-error" />
        <FieldError id="edit-expiry-error" message={errorFor("expire_time")} />
        <label for="edit-service">Service (empty: none)</label>
        <input id="edit-service" value={form.service} onInput={(e) => set({ service: e.currentTarget.value })} aria-describedby="edit-service-error" />
        <FieldError id="edit-service-error" message={errorFor("service")} />
        <label for="edit-subnets">Allowed subnets (one CIDR per line; empty: any address)</label>
        <textarea id="edit-subnets" value={form.subnets} onInput={(e) => set({ subnets: e.currentTarget.value })} aria-describedby="edit-subnets-error" />
        <FieldError id="edit-subnets-error" message={errorFor("allowed_subnets")} />
        <ConstraintsInput value={form.constraints} onChange={(constraints) => set({ constraints })} />
        <FieldError id="edit-constraints-error" message={errorFor("constraints")} />
        <label for="edit-labels">Labels (one key=value per line, e.g. owner=ana)</label>
        <textarea id="edit-labels" value={form.labels} onInput={(e) => set({ labels: e.currentTarget.value })} aria-describedby="edit-labels-error" />
        <FieldError id="edit-labels-error" message={errorFor("labels")} />
        <ErrorText error={error} />
        <FormActions submit="Save" onCancel={props.onCancel} />
      </form>
    </Modal>
  );
}
