// The key tester: paste a key and the request it would be presented with, and
// read CheckKey's verdict in words, to debug a denial. The pasted key lives in
// this component's state only: never stored, never in the URL (the form is
// handled in script, never submitted), and sent only in the CheckKey body.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useState } from "preact/hooks";
import { CheckCode, type CheckKeyResponse } from "../../../gen/keyward/v1/check_pb.js";
import { api, explain } from "../api.js";
import type { PageProps } from "../app.js";
import { relativeTime, When } from "../time.js";
import { ErrorText } from "../ui.js";

/** "3 remaining, resets in 5 minutes" for a key with usage limits. */
function remainingText(r: CheckKeyResponse): string {
  if (r.remaining === undefined) return "";
  const reset = r.resetTime ? `, resets ${relativeTime(timestampDate(r.resetTime))}` : "";
  return ` (${r.remaining} remaining${reset})`;
}

/** The verdict as a sentence a person reads. */
export function verdictText(r: CheckKeyResponse): string {
  switch (r.code) {
    case CheckCode.VALID:
      return `VALID: key ${r.apiKeyName} under policy ${r.policyName}${remainingText(r)}`;
    case CheckCode.MALFORMED:
      return "Unknown key: this is not a Keyward key (its format or checksum is wrong).";
    case CheckCode.NOT_FOUND:
      return "Unknown key: no key has this id and secret.";
    case CheckCode.EXPIRED:
      return "Denied: the key has expired.";
    case CheckCode.RETIRED:
      return "Denied: the key was retired.";
    case CheckCode.SUBNET_DENIED:
      return "Denied: the client IP is outside the key's allowed subnets.";
    case CheckCode.CONSTRAINT_DENIED:
      return "Denied: the method or path is not allowed by the key's constraints.";
    case CheckCode.PERMISSION_DENIED:
      return `Denied: the key's policy lacks ${r.missingPermission || "a requested permission"}.`;
    case CheckCode.RATE_LIMITED:
      return `Denied: the key is over one of its rate limits${remainingText(r)}.`;
    case CheckCode.USAGE_EXCEEDED:
      return `Denied: the key is out of credits${remainingText(r)}.`;
    default:
      return "Keyward gave no verdict.";
  }
}

export function KeyTesterPage(_: PageProps) {
  const [key, setKey] = useState("");
  const [shown, setShown] = useState(false);
  const [permissions, setPermissions] = useState("");
  const [method, setMethod] = useState("");
  const [path, setPath] = useState("");
  const [clientIp, setClientIp] = useState("");
  const [answer, setAnswer] = useState<CheckKeyResponse>();
  const [error, setError] = useState<string>();

  async function test(e: Event) {
    e.preventDefault();
    setAnswer(undefined);
    setError(undefined);
    try {
      setAnswer(
        await api.check.checkKey({
          key: key.trim(),
          permissions: permissions.split(",").map((p) => p.trim()).filter(Boolean),
          method: method.trim(),
          path: path.trim(),
          clientIp: clientIp.trim(),
          // A test spends no credits: 0 reads the key's remaining without spending.
          cost: 0,
        }),
      );
    } catch (err) {
      setError(explain(err));
    }
  }

  return (
    <section aria-labelledby="tester-title">
      <h1 id="tester-title">Test a key</h1>
      <p class="muted">Asks Keyward what it would answer a service presented with this key and request. The key is not stored and leaves this page only in the check itself.</p>
      <form onSubmit={test} autoComplete="off">
        <label for="tester-key">Key</label>
        <input id="tester-key" type={shown ? "text" : "password"} required value={key} onInput={(e) => setKey(e.currentTarget.value)} spellcheck={false} />
        <button type="button" class="secondary" aria-pressed={shown} onClick={() => setShown(!shown)}>
          {shown ? "Hide key" : "Show key"}
        </button>
        <label for="tester-permissions">Permissions (comma-separated; empty: authenticate only)</label>
        <input id="tester-permissions" value={permissions} onInput={(e) => setPermissions(e.currentTarget.value)} placeholder="billing.invoices.read, billing.invoices.write" />
        <label for="tester-method">Method</label>
        <input id="tester-method" value={method} onInput={(e) => setMethod(e.currentTarget.value)} placeholder="GET" />
        <label for="tester-path">Path</label>
        <input id="tester-path" value={path} onInput={(e) => setPath(e.currentTarget.value)} placeholder="/v1/invoices" />
        <label for="tester-ip">Client IP</label>
        <input id="tester-ip" value={clientIp} onInput={(e) => setClientIp(e.currentTarget.value)} placeholder="10.0.0.7" />
        <div class="actions">
          <button type="submit">Test</button>
        </div>
      </form>
      <ErrorText error={error} />
      {answer && (
        <div class={answer.valid ? "verdict valid" : "verdict denied"} role="status" aria-label="Verdict">
          <p class="verdict-text">{verdictText(answer)}</p>
          {answer.apiKeyId && (
            <p>
              Key id <code>{answer.apiKeyId}</code>
            </p>
          )}
          {answer.valid && (
            <p>
              Expires <When time={answer.expireTime} />
              {answer.service && ` · service ${answer.service}`}
            </p>
          )}
        </div>
      )}
    </section>
  );
}
