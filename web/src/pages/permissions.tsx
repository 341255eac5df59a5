// Registered permissions, by service, then by the prefix each sits under.
import { useEffect, useState } from "preact/hooks";
import type { Permission } from "../../../gen/keyward/v1/permissions_pb.js";
import { api, explain } from "../api.js";
import { parentOf } from "../permission-groups.js";
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
          {[...new Set(permissions.filter((p) => p.service === service).map((p) => parentOf(p.name)))].sort().map((group) => (
            <>
              {group !== service && <h3>{group}.*</h3>}
              <ul>
                {permissions
                  .filter((p) => p.service === service && parentOf(p.name) === group)
                  .map((p) => (
                    <li>
                      <code>{p.name}</code> {p.description && <span class="muted">— {p.description}</span>}
                      {!p.registered && <span class="chip warn">unregistered</span>}
                    </li>
                  ))}
              </ul>
            </>
          ))}
        </section>
      ))}
    </section>
  );
}
