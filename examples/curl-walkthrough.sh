#!/usr/bin/env bash
# The README's REST walkthrough: the whole admin flow with curl against /api/v1.
#   KEYWARD_URL=http://127.0.0.1:8080 KEYWARD_ADMIN_KEY=kw_... bash examples/curl-walkthrough.sh
set -euo pipefail
API="${KEYWARD_URL:-http://127.0.0.1:8080}/api/v1"
AUTH="authorization: Bearer ${KEYWARD_ADMIN_KEY:?set KEYWARD_ADMIN_KEY to the bootstrap key}"
# Reads one field of the JSON on stdin (node is already here for Keyward).
# Empty input means the call before it failed and said why already: fail quietly.
field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{if(!s)process.exit(1);console.log(process.argv[1].split(".").reduce((o,k)=>o[k],JSON.parse(s)))})' "$1"; }
say() { printf '%s\n' "$*"; }
# curl that stops the walkthrough with Keyward's own message (its JSON error) when a call fails.
api() {
  local out arg url="" rc=0
  for arg in "$@"; do [[ $arg == http* ]] && url=$arg; done # never echo the other arguments: one is the admin key
  out=$(curl -s --fail-with-body "$@") || rc=$?
  if ((rc != 0)); then
    printf 'keyward refused %s: %s\n' "$url" "${out:-no answer (curl exit code $rc)}" >&2
    exit 1
  fi
  printf '%s' "$out"
}
# Names unique to this run, so the walkthrough can run again against the same Keyward.
RUN=$(date +%s)

# 1. The billing service registers the permissions it defines.
api -X PUT "$API/services/billing/permissions" -H "$AUTH" \
  -d '{"permissions":[{"name":"billing.invoices.read","description":"Read invoices"},{"name":"billing.invoices.write","description":"Issue invoices"}]}' >/dev/null

# 2. A policy from registered permissions, and a key on it for 30 days (its credentials are shown once).
POLICY=$(api -X POST "$API/api_keys/policies" -H "$AUTH" \
  -d '{"name":"invoice-reader-'"$RUN"'","permissions":["billing.invoices.read"]}' | field policy.id)
CREATED=$(api -X POST "$API/api_keys" -H "$AUTH" \
  -d "{\"name\":\"reporting-job-$RUN\",\"policyId\":\"$POLICY\",\"ttl\":\"2592000s\",\"labels\":{\"team\":\"reporting\"},\"constraints\":[{\"type\":\"CONSTRAINT_TYPE_PREFIX\",\"value\":\"/invoices\"}]}")
KEY_ID=$(field apiKey.id <<<"$CREATED")
KEY=$(field credentials <<<"$CREATED")
say "created key $KEY_ID"

# 3. The billing service checks the key on a request it received.
check() { api -X POST "$API/api_keys:check" -H "$AUTH" -d "{\"key\":\"$1\",\"permissions\":[\"$2\"],\"method\":\"GET\",\"path\":\"$3\"}" | field code; }
say "read /invoices/7: $(check "$KEY" billing.invoices.read /invoices/7)"
say "read /payroll: $(check "$KEY" billing.invoices.read /payroll)"
say "write /invoices: $(check "$KEY" billing.invoices.write /invoices)"

# 4. Widen the policy (PATCH without a mask updates the fields in the body).
api -X PATCH "$API/api_keys/policies/$POLICY" -H "$AUTH" \
  -d '{"permissions":["billing.invoices.read","billing.invoices.write"]}' >/dev/null
say "write /invoices after widening: $(check "$KEY" billing.invoices.write /invoices)"

# 5. Rotate with an hour's overlap: both secrets work until it ends.
NEW_KEY=$(api -X POST "$API/api_keys/$KEY_ID:rotate" -H "$AUTH" -d '{"overlap":"3600s"}' | field credentials)
say "old secret during the overlap: $(check "$KEY" billing.invoices.read /invoices)"
say "new secret: $(check "$NEW_KEY" billing.invoices.read /invoices)"

# 6. Keys expiring soon (to rotate), keys found by label and name, the audit trail of this key, then retire it.
EXPIRING=$(api "$API/api_keys?expiringWithin=3888000s&pageSize=1000" -H "$AUTH")
say "listed as expiring within 45 days: $([[ $EXPIRING == *"\"$KEY_ID\""* ]] && echo yes || echo no)"
LABELLED=$(api "$API/api_keys?label=team=reporting&nameContains=REPORTING&pageSize=1000" -H "$AUTH")
say "listed by label team=reporting and name: $([[ $LABELLED == *"\"$KEY_ID\""* ]] && echo yes || echo no)"
say "audit events for the key: $(api "$API/audit_events?target=api_keys/$KEY_ID" -H "$AUTH" | field auditEvents.length)"
api -X POST "$API/api_keys/$KEY_ID:retire" -H "$AUTH" -d '{}' >/dev/null
say "after retiring: $(check "$NEW_KEY" billing.invoices.read /invoices)"

# 7. Whoever holds a key can kill it with no credential of their own (a leaked key): the answer is {} whatever the key.
LEAKED=$(api -X POST "$API/api_keys" -H "$AUTH" -d "{\"name\":\"leaked-job-$RUN\",\"policyId\":\"$POLICY\",\"ttl\":\"86400s\"}" | field credentials)
say "revoked by possession: $(api -X POST "$API/api_keys:revoke" -H 'content-type: application/json' -d "{\"key\":\"$LEAKED\"}")"
say "after revoking by possession: $(check "$LEAKED" billing.invoices.read /invoices)"

# 8. Deleting the policy deletes its keys.
say "deleted with the policy: $(api -X DELETE "$API/api_keys/policies/$POLICY" -H "$AUTH" | field deletedApiKeyCount) key(s)"
