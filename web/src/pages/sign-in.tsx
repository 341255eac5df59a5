import { Code, ConnectError } from "@connectrpc/connect";
import { useState } from "preact/hooks";
import { api, explain, session } from "../api.js";
import { ErrorText } from "../ui.js";

export function SignIn(props: { onSignedIn: () => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    session.set(key.trim());
    try {
      await api.policies.adminGetApiKeyPolicies({});
      props.onSignedIn();
    } catch (err) {
      // A valid key without keyward.policies.read is still signed in.
      if (ConnectError.from(err).code === Code.PermissionDenied) return props.onSignedIn();
      session.clear();
      setError(explain(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="sign-in">
      <h1>Keyward</h1>
      <form onSubmit={submit}>
        <label for="admin-key">Admin key</label>
        <input id="admin-key" type="password" autoComplete="off" required value={key} onInput={(e) => setKey(e.currentTarget.value)} />
        <p class="hint">Paste a Keyward key (kw_…). It is kept in this tab only and sent as Authorization: Bearer.</p>
        <ErrorText error={error} />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
