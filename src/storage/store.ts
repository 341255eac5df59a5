import { sql, type Kysely } from "kysely";
import type { Change, ChangeFeed, ChangeSink, LocalChange } from "./changes.js";
import type { Database } from "./database.js";
import { isRetryableConflict } from "./errors.js";
import { ApiKeyRepository } from "./repositories/api-keys.js";
import { AuditEventRepository } from "./repositories/audit-events.js";
import { BootstrapRepository } from "./repositories/bootstrap.js";
import { PermissionRepository } from "./repositories/permissions.js";
import { PolicyRepository } from "./repositories/policies.js";
import { UsageRepository } from "./repositories/usage.js";
import { UsageRollupRepository } from "./repositories/usage-rollups.js";
import { WebhookRepository } from "./repositories/webhooks.js";

/** The repositories, all bound to one connection or one transaction. */
export interface Repositories {
  readonly permissions: PermissionRepository;
  readonly policies: PolicyRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly bootstrap: BootstrapRepository;
  readonly auditEvents: AuditEventRepository;
  readonly usage: UsageRepository;
  readonly usageRollups: UsageRollupRepository;
  readonly webhooks: WebhookRepository;
}

const bind = (db: Kysely<Database>, sink: ChangeSink): Repositories => ({
  permissions: new PermissionRepository(db, sink),
  policies: new PolicyRepository(db, sink),
  apiKeys: new ApiKeyRepository(db, sink),
  bootstrap: new BootstrapRepository(db),
  auditEvents: new AuditEventRepository(db),
  usage: new UsageRepository(db),
  usageRollups: new UsageRollupRepository(db),
  webhooks: new WebhookRepository(db, sink),
});

// The Store is the repositories bound to the pool: this merges Repositories'
// fields into the class, so the list of repositories is written once (above).
export interface Store extends Repositories {}

/**
 * Keyward's storage as the domain sees it: repositories for single reads and
 * writes, and `transaction` for anything that writes more than one row.
 */
export class Store {
  constructor(
    readonly db: Kysely<Database>,
    readonly kind: "postgres" | "pglite",
    /** Notifications of changes made by any replica. */
    readonly changes: ChangeFeed,
    /** Runs once the database is closed (releases the embedded store's lock). */
    private readonly afterClose: () => void = () => {},
  ) {
    Object.assign(this, bind(db, (change) => this.committed(change)));
  }

  private localListener: ChangeSink = () => {};

  /**
   * Hears this process's own changes as soon as they commit, before the
   * notification round trip, so the very next check on this replica sees them.
   */
  onCommittedChange(listener: ChangeSink): void {
    this.localListener = listener;
  }

  private committed(change: Change | LocalChange): void {
    this.localListener(change);
  }

  /**
   * Runs `work` in one transaction: it commits if `work` resolves and rolls
   * back if it throws. One PostgreSQL chose as a deadlock's victim is run again
   * (twice at most): `work` must do nothing outside the transaction.
   */
  async transaction<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const published: (Change | LocalChange)[] = [];
      try {
        const result = await this.db.transaction().execute((trx) => work(bind(trx, (change) => published.push(change))));
        for (const change of published) this.committed(change);
        return result;
      } catch (error) {
        if (attempt >= 3 || !isRetryableConflict(error)) throw error;
      }
    }
  }

  /** Resolves when the database answers a trivial query. */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.changes.close();
    await this.db.destroy();
    this.afterClose();
  }
}
