// Usage: checks per hour over the last 7 days, for the whole deployment and
// for one key picked from the list (#/usage?key=<id> links to a key's chart).
import { useEffect, useState } from "preact/hooks";
import type { ApiKey } from "../../../gen/keyward/v1/api_keys_pb.js";
import { api, explain } from "../api.js";
import type { PageProps } from "../app.js";
import { ErrorText } from "../ui.js";
import { UsageChart } from "../usage-chart.js";

export function UsagePage(_: PageProps) {
  const [keys, setKeys] = useState<ApiKey[]>([]);
  const [keyId, setKeyId] = useState(new URLSearchParams(window.location.hash.split("?")[1] ?? "").get("key") ?? "");
  const [error, setError] = useState<string>();
  useEffect(() => {
    api.keys.adminListApiKeys({ pageSize: 1000 }).then(
      (page) => setKeys(page.apiKeys),
      (err: unknown) => setError(explain(err)),
    );
  }, []);
  const picked = keys.find((k) => k.id === keyId);

  return (
    <section aria-labelledby="usage-title">
      <h1 id="usage-title">Usage</h1>
      <ErrorText error={error} />
      <UsageChart title="All keys" />
      <label for="usage-key">Key</label>{" "}
      <select id="usage-key" value={keyId} onChange={(e) => setKeyId((e.target as HTMLSelectElement).value)}>
        <option value="">Pick a key</option>
        {keys.map((k) => (
          <option value={k.id}>{k.name}</option>
        ))}
      </select>
      {keyId && <UsageChart key={keyId} apiKeyId={keyId} title={picked ? `Key ${picked.name}` : `Key ${keyId}`} />}
    </section>
  );
}
