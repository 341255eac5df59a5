// The dashboard: sign in with an admin key, then policies, API keys,
// permissions, webhooks, the audit log, usage and the key tester.
import { useEffect, useState } from "preact/hooks";
import { session } from "./api.js";
import { AuditPage } from "./pages/audit.js";
import { KeysPage } from "./pages/keys.js";
import { KeyTesterPage } from "./pages/key-tester.js";
import { PermissionsPage } from "./pages/permissions.js";
import { PoliciesPage } from "./pages/policies.js";
import { SignIn } from "./pages/sign-in.js";
import { WebhooksPage } from "./pages/webhooks.js";
import { UsagePage } from "./pages/usage.js";

const PAGES = [
  { hash: "#/keys", label: "API keys", Page: KeysPage },
  { hash: "#/policies", label: "Policies", Page: PoliciesPage },
  { hash: "#/permissions", label: "Permissions", Page: PermissionsPage },
  { hash: "#/webhooks", label: "Webhooks", Page: WebhooksPage },
  { hash: "#/audit", label: "Audit log", Page: AuditPage },
  { hash: "#/usage", label: "Usage", Page: UsagePage },
  { hash: "#/test-key", label: "Test a key", Page: KeyTesterPage },
] as const;

export function App() {
  const [signedIn, setSignedIn] = useState(session.get() !== null);
  const [hash, setHash] = useState(window.location.hash || "#/keys");
  useEffect(() => {
    const onHash = () => setHash(window.location.hash || "#/keys");
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  if (!signedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  // A page's own parameters follow a "?" (#/usage?key=…).
  const current = PAGES.find((p) => p.hash === hash.split("?")[0]) ?? PAGES[0];
  return (
    <>
      <header>
        <span class="brand">Keyward</span>
        <nav aria-label="Main">
          {PAGES.map((p) => (
            <a href={p.hash} aria-current={p === current ? "page" : undefined}>
              {p.label}
            </a>
          ))}
        </nav>
        <button
          type="button"
          onClick={() => {
            session.clear();
            setSignedIn(false);
          }}
        >
          Sign out
        </button>
      </header>
      <main>
        <current.Page onSignedOut={() => (session.clear(), setSignedIn(false))} />
      </main>
    </>
  );
}

export interface PageProps {
  onSignedOut: () => void;
}
