// Registered permissions, by service.
import { useEffect, useState } from "preact/hooks";
import type { Permission } from "../../../gen/keyward/v1/permissions_pb.js";
import { api, explain } from "../api.js";
import type { PageProps } from "../app.js";
import { ErrorText } from "../ui.js";

export function PermissionsPage(_: PageProps) {
  const [permissions, setPermissions] = useState<Permission[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    api.permissions.adminGetApiKeyPermissions({}).then(
      (r) => setPermissions(r.permissions),
      (err: unknown) => setError(explain(err)),
    );
  }, []);
  const services = [...new Set(permissions.map((p) => p.service))];
  return (
    <section aria-labelledby="permissions-title">
      <h1 id="permissions-title">Permissions</h1>
      <ErrorText error={error} />
      {services.map((service) => (
        <section class="service-group" aria-label={service}>
          <h2>{service}</h2>
          <ul>
            {permissions
              .filter((p) => p.service === service)
              .map((p) => (
                <li>
                  <code>{p.name}</code> {p.description && <span class="muted">— {p.description}</span>}
                  {!p.registered && <span class="chip warn">unregistered</span>}
                </li>
              ))}
          </ul>
        </section>
      ))}
    </section>
  );
}
