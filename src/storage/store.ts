import { sql, type Kysely } from "kysely";
import type { Database } from "./database.js";
import { ApiKeyRepository } from "./repositories/api-keys.js";
import { AuditEventRepository } from "./repositories/audit-events.js";
import { BootstrapRepository } from "./repositories/bootstrap.js";
import { PermissionRepository } from "./repositories/permissions.js";
import { PolicyRepository } from "./repositories/policies.js";

/** The repositories, all bound to one connection or one transaction. */
export interface Repositories {
  readonly permissions: PermissionRepository;
  readonly policies: PolicyRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly bootstrap: BootstrapRepository;
  readonly auditEvents: AuditEventRepository;
}

const bind = (db: Kysely<Database>): Repositories => ({
  permissions: new PermissionRepository(db),
  policies: new PolicyRepository(db),
  apiKeys: new ApiKeyRepository(db),
  bootstrap: new BootstrapRepository(db),
  auditEvents: new AuditEventRepository(db),
});

/**
 * Keyward's storage as the domain sees it: repositories for single reads and
 * writes, and `transaction` for anything that writes more than one row.
 */
export class Store implements Repositories {
  readonly permissions: PermissionRepository;
  readonly policies: PolicyRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly bootstrap: BootstrapRepository;
  readonly auditEvents: AuditEventRepository;

  constructor(
    readonly db: Kysely<Database>,
    readonly kind: "postgres" | "pglite",
  ) {
    ({
      permissions: this.permissions,
      policies: this.policies,
      apiKeys: this.apiKeys,
      bootstrap: this.bootstrap,
      auditEvents: this.auditEvents,
    } = bind(db));
  }

  /** Runs `work` in one transaction: it commits if `work` resolves and rolls back if it throws. */
  transaction<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(bind(trx)));
  }

  /** Resolves when the database answers a trivial query. */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
