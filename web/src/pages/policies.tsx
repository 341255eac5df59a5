// Policies: a page at a time, searched by name on the server; create and edit
// from the registered permissions, delete (saying how many keys go with it).
import { useEffect, useMemo, useState } from "preact/hooks";
import type { Permission } from "../../../gen/keyward/v1/permissions_pb.js";
import type { Policy } from "../../../gen/keyward/v1/policies_pb.js";
import { api, explain, fieldError, signedInKeyId } from "../api.js";
import type { PageProps } from "../app.js";
import { Pager, useLatestRequest, usePageTokens } from "../paging.js";
import { patternPrefixes } from "../permission-groups.js";
import { Confirm, ErrorText, FieldError, FormActions, Modal } from "../ui.js";
import { LimitInputs, describeRateLimits, emptyLimitFields, limitFieldsOf, rateLimitsOf } from "../limits.js";

export function PoliciesPage(props: PageProps) {
  const [policies, setPolicies] = useState<Policy[]>([]);
  const [permissions, setPermissions] = useState<Permission[]>([]);
  const [error, setError] = useState<string>();
  const [editing, setEditing] = useState<Policy | "new">();
  const [deleting, setDeleting] = useState<Policy>();
  // The policy of the key signed in with, to say so before deleting or narrowing it.
  const [ownPolicyId, setOwnPolicyId] = useState<string>();
  const [typed, setTyped] = useState("");
  const [nameContains, setNameContains] = useState("");
  const [pageSize, setPageSize] = useState(50);
  const paging = usePageTokens();
  const beginRequest = useLatestRequest();

  async function load() {
    const current = beginRequest();
    try {
      const ownKeyId = signedInKeyId();
      const [p, perms, own] = await Promise.all([
        api.policies.adminGetApiKeyPolicies({ pageSize, pageToken: paging.token, nameContains }),
        api.permissions.adminGetApiKeyPermissions({}),
        ownKeyId ? api.keys.adminGetApiKey({ id: ownKeyId }).catch(() => undefined) : undefined,
      ]);
      if (!current()) return;
      // The API pages in creation order; each page reads best by name.
      setPolicies([...p.policies].sort((a, b) => a.name.localeCompare(b.name)));
      paging.received(p.nextPageToken);
      setPermissions(perms.permissions);
      setOwnPolicyId(own?.apiKey?.policyId);
      setError(undefined);
    } catch (err) {
      if (current()) setError(explain(err));
    }
  }
  useEffect(() => void load(), [nameContains, pageSize, paging.index]);

  async function remove(policy: Policy) {
    setDeleting(undefined);
    try {
      await api.policies.adminDeleteApiKeyPolicy({ id: policy.id });
      if (policy.id === ownPolicyId) return props.onSignedOut();
      await load();
    } catch (err) {
      setError(explain(err));
    }
  }

  return (
    <section aria-labelledby="policies-title">
      <div class="toolbar">
        <h1 id="policies-title">Policies</h1>
        <button type="button" onClick={() => setEditing("new")}>
          New policy
        </button>
      </div>
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setNameContains(typed.trim());
          paging.restart();
        }}
      >
        <div>
          <label for="policy-search">Search policies by name</label>
          <input id="policy-search" type="search" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
        </div>
        <button type="submit">Search</button>
      </form>
      <ErrorText error={error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Permissions</th>
            <th scope="col">Keys</th>
            <th scope="col">Rate limits</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {policies.map((p) => (
            <tr key={p.id}>
              <td>
                <strong>{p.name}</strong>
                <div class="muted">{p.description}</div>
              </td>
              <td>
                {p.permissions.map((entry) => (
                  <span class="chip">
                    {entry}
                    {isUnregistered(entry, permissions) ? " (unregistered)" : ""}
                  </span>
                ))}
              </td>
              <td>{p.apiKeyCount}</td>
              <td class="limits">{describeRateLimits(p.rateLimits) || <span class="muted">none</span>}</td>
              <td class="row-actions">
                <button type="button" onClick={() => setEditing(p)} aria-label={`Edit ${p.name}`}>
                  Edit
                </button>
                <button type="button" class="danger" onClick={() => setDeleting(p)} aria-label={`Delete ${p.name}`}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager paging={paging} shown={policies.length} pageSize={pageSize} noun="policies" onPageSize={setPageSize} />
      {editing && (
        <PolicyForm
          policy={editing === "new" ? undefined : editing}
          permissions={permissions}
          own={editing !== "new" && editing.id === ownPolicyId}
          onDone={async () => {
            setEditing(undefined);
            await load();
          }}
          onCancel={() => setEditing(undefined)}
        />
      )}
      {deleting && (
        <Confirm
          title={`Delete policy ${deleting.name}?`}
          message={
            (deleting.id === ownPolicyId ? "This deletes the key you are signed in with (it is on this policy); you will be signed out. " : "") +
            `This deletes the policy and its ${deleting.apiKeyCount} API key${deleting.apiKeyCount === 1 ? "" : "s"}, at once. It cannot be undone.`
          }
          action="Delete"
          onConfirm={() => void remove(deleting)}
          onCancel={() => setDeleting(undefined)}
        />
      )}
    </section>
  );
}

const isUnregistered = (entry: string, permissions: Permission[]) => permissions.some((p) => p.name === entry && !p.registered);

function PolicyForm(props: { policy: Policy | undefined; permissions: Permission[]; own: boolean; onDone: () => void; onCancel: () => void }) {
  const [name, setName] = useState(props.policy?.name ?? "");
  const [description, setDescription] = useState(props.policy?.description ?? "");
  const [chosen, setChosen] = useState<Set<string>>(new Set(props.policy?.permissions ?? []));
  const [search, setSearch] = useState("");
  const initialLimits = props.policy ? limitFieldsOf(props.policy.rateLimits, undefined) : emptyLimitFields();
  const [limits, setLimits] = useState(initialLimits);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  // Entries being taken off the signed-in key's own policy, awaiting confirmation.
  const [narrowing, setNarrowing] = useState<string[]>();

  const byService = useMemo(() => {
    const groups = new Map<string, Permission[]>();
    for (const p of props.permissions) {
      if (search && !p.name.includes(search) && !p.description.toLowerCase().includes(search.toLowerCase())) continue;
      groups.set(p.service, [...(groups.get(p.service) ?? []), p]);
    }
    return [...groups];
  }, [props.permissions, search]);

  const toggle = (entry: string) => {
    const next = new Set(chosen);
    if (next.has(entry)) next.delete(entry);
    else next.add(entry);
    setChosen(next);
  };

  function submit(e: Event) {
    e.preventDefault();
    const removed = (props.policy?.permissions ?? []).filter((entry) => !chosen.has(entry));
    if (props.own && removed.length > 0) setNarrowing(removed);
    else void save();
  }

  async function save() {
    setNarrowing(undefined);
    setErrors({});
    setError(undefined);
    const permissions = [...chosen];
    try {
      const rateLimits = rateLimitsOf(limits);
      if (props.policy) {
        await api.policies.adminUpdateApiKeyPolicy({
          policy: { id: props.policy.id, name, description, permissions, rateLimits },
          // The form edits one rate limit: a policy's others (set through the API) stay unless this one is changed.
          updateMask: { paths: ["name", "description", "permissions", ...(JSON.stringify(limits) === JSON.stringify(initialLimits) ? [] : ["rate_limits"])] },
        });
      } else {
        await api.policies.adminCreateApiKeyPolicy({ name, description, permissions, rateLimits });
      }
      props.onDone();
    } catch (err) {
      const f = fieldError(err);
      if (f) setErrors({ [f.field.replace(/^policy\./, "").replace(/\[\d+\]$/, "")]: f.message });
      else setError(explain(err));
    }
  }

  return (
    <Modal title={props.policy ? `Edit policy ${props.policy.name}` : "New policy"} onClose={props.onCancel}>
      <form onSubmit={submit}>
        <label for="policy-name">Name</label>
        <input id="policy-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} aria-describedby="policy-name-error" />
        <FieldError id="policy-name-error" message={errors.name} />
        <label for="policy-description">Description</label>
        <textarea id="policy-description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        <FieldError id="policy-description-error" message={errors.description} />
        <fieldset aria-describedby="policy-permissions-error">
          <legend>Permissions</legend>
          <label for="permission-search">Search permissions</label>
          <input id="permission-search" type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
          <label class="check">
            <input type="checkbox" checked={chosen.has("*")} onChange={() => toggle("*")} /> * — every permission of every service
          </label>
          {byService.map(([service, perms]) => (
            <div class="service-group">
              <h3>{service}</h3>
              <label class="check">
                <input type="checkbox" checked={chosen.has(`${service}.*`)} onChange={() => toggle(`${service}.*`)} /> {service}.* — all of {service}, now and later
              </label>
              {patternPrefixes(perms.map((p) => p.name)).map((prefix) => (
                <label class="check">
                  <input type="checkbox" checked={chosen.has(`${prefix}.*`)} onChange={() => toggle(`${prefix}.*`)} /> {prefix}.* — all under {prefix}, now and later
                </label>
              ))}
              {perms.map((p) => (
                <label class="check">
                  <input type="checkbox" checked={chosen.has(p.name)} onChange={() => toggle(p.name)} /> {p.name}
                  {p.registered ? "" : " (unregistered)"}
                  {p.description && <span class="muted"> — {p.description}</span>}
                </label>
              ))}
            </div>
          ))}
        </fieldset>
        <FieldError id="policy-permissions-error" message={errors.permissions} />
        <LimitInputs value={limits} onChange={setLimits} credits={false} errorFor={(field) => Object.entries(errors).find(([f]) => f.startsWith(field))?.[1]} />
        <ErrorText error={error} />
        <FormActions submit={props.policy ? "Save" : "Create"} onCancel={props.onCancel} />
      </form>
      {narrowing && (
        <Confirm
          title={`Narrow your own policy ${props.policy?.name ?? ""}?`}
          message={`This narrows the policy of the key you are signed in with, removing ${narrowing.join(", ")}; your key may lose what this dashboard needs, and you may be signed out.`}
          action="Save"
          onConfirm={() => void save()}
          onCancel={() => setNarrowing(undefined)}
        />
      )}
    </Modal>
  );
}
