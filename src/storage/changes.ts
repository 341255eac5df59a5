// Change notifications: every write that changes a key, a policy or a
// registration publishes one with pg_notify inside its own transaction, so it
// reaches every replica when (and only if) the write commits.
import { sql, type Kysely } from "kysely";
import type { PGlite } from "@electric-sql/pglite";
import type pg from "pg";
import type { Database } from "./database.js";

export const CHANGES_CHANNEL = "keyward_changes";

export type Change = { kind: "api_key"; id: string } | { kind: "policy"; id: string } | { kind: "registry" };

/**
 * What a write tells this replica alone, when it commits: webhook deliveries
 * were queued (its dispatcher sends them at once; other replicas find them
 * when they next poll).
 */
export type LocalChange = { kind: "outbox" };

/** Told of each change a repository published (and each local one), when its transaction commits. */
export type ChangeSink = (change: Change | LocalChange) => void;

/** A change as received, with when it was published (ms since epoch, the publisher's clock). */
export type ReceivedChange = Change & { at: number };

/** Notifies every replica on commit (pg_notify in `db`'s transaction) and this one through `sink`. */
export async function publishChange(db: Kysely<Database>, sink: ChangeSink, change: Change): Promise<void> {
  await sql`select pg_notify(${CHANGES_CHANNEL}, ${JSON.stringify({ ...change, at: Date.now() })})`.execute(db);
  sink(change);
}

function parseChange(payload: string | undefined): ReceivedChange | undefined {
  try {
    const c = JSON.parse(payload ?? "") as Partial<ReceivedChange> & { id?: unknown };
    if (typeof c.at !== "number") return undefined;
    if (c.kind === "registry") return { kind: "registry", at: c.at };
    if ((c.kind === "api_key" || c.kind === "policy") && typeof c.id === "string") return { kind: c.kind, id: c.id, at: c.at };
  } catch {
    // Not ours: ignore.
  }
  return undefined;
}

export interface ChangeListener {
  onChange(change: ReceivedChange): void;
  /** The feed stopped: changes may be missed until onUp. */
  onDown(error?: unknown): void;
  /** The feed is (again) receiving; anything before may have been missed. */
  onUp(): void;
}

export interface ChangeFeed {
  readonly up: boolean;
  start(listener: ChangeListener): Promise<void>;
  close(): Promise<void>;
}

/** PGlite delivers notifications in-process; its feed cannot be lost. */
export class PgliteChangeFeed implements ChangeFeed {
  up = false;
  private unlisten: (() => Promise<void>) | undefined;

  constructor(private readonly pglite: PGlite) {}

  async start(listener: ChangeListener): Promise<void> {
    this.unlisten = await this.pglite.listen(CHANGES_CHANNEL, (payload) => {
      const change = parseChange(payload);
      if (change) listener.onChange(change);
    });
    this.up = true;
    listener.onUp();
  }

  async close(): Promise<void> {
    this.up = false;
    await this.unlisten?.();
  }
}

const BACKOFF_MS = [100, 250, 500, 1_000, 2_000, 5_000];

/**
 * A dedicated connection, outside the pool, LISTENing for changes. When it is
 * lost, the listener hears onDown at once, and the feed reconnects with
 * backoff until it can LISTEN again (onUp).
 */
export class PostgresChangeFeed implements ChangeFeed {
  up = false;
  private client: pg.Client | undefined;
  private closed = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private listener: ChangeListener | undefined;

  constructor(private readonly url: string) {}

  async start(listener: ChangeListener): Promise<void> {
    this.listener = listener;
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    // The driver is loaded when first needed: an embedded store's start never reads it.
    const { default: driver } = await import("pg");
    if (this.closed) return;
    const client = new driver.Client({ connectionString: this.url, connectionTimeoutMillis: 5_000, keepAlive: true });
    this.client = client;
    const lost = (error?: unknown) => {
      if (this.client !== client) return;
      this.client = undefined;
      client.removeAllListeners("notification");
      void client.end().catch(() => {});
      if (this.up) {
        this.up = false;
        this.listener?.onDown(error);
      }
      this.schedule();
    };
    client.on("error", lost);
    client.on("end", () => lost());
    client.on("notification", (n) => {
      const change = n.channel === CHANGES_CHANNEL ? parseChange(n.payload) : undefined;
      if (change) this.listener?.onChange(change);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (error) {
      lost(error);
      return;
    }
    if (this.client !== client) return;
    this.attempt = 0;
    this.up = true;
    this.listener?.onUp();
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    const delay = BACKOFF_MS[Math.min(this.attempt++, BACKOFF_MS.length - 1)]!;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, delay);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.up = false;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }
}
