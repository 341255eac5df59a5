import type { Kysely } from "kysely";
import type { Database } from "../database.js";
import { publishChange, type ChangeSink } from "../changes.js";
import type { PermissionRecord } from "../records.js";

/** A permission as a service declares it (the registry checks it, this writes it). */
export interface PermissionDefinition {
  name: string;
  description: string;
}

export class PermissionRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sink: ChangeSink,
  ) {}

  /** Every permission ever registered, by service then name. */
  async list(): Promise<PermissionRecord[]> {
    return this.db
      .selectFrom("permissions")
      .select(["name", "service", "description", "registered"])
      .orderBy("service")
      .orderBy("name")
      .execute();
  }

  async listForService(service: string): Promise<PermissionRecord[]> {
    return this.db
      .selectFrom("permissions")
      .select(["name", "service", "description", "registered"])
      .where("service", "=", service)
      .orderBy("name")
      .execute();
  }

  /** Of the given names, those currently registered. */
  async registeredAmong(names: readonly string[]): Promise<Set<string>> {
    if (names.length === 0) return new Set();
    const rows = await this.db
      .selectFrom("permissions")
      .select("name")
      .where("name", "in", [...names])
      .where("registered", "=", true)
      .execute();
    return new Set(rows.map((r) => r.name));
  }

  /** Every currently registered permission's name. */
  async allRegistered(): Promise<Set<string>> {
    const rows = await this.db.selectFrom("permissions").select("name").where("registered", "=", true).execute();
    return new Set(rows.map((r) => r.name));
  }

  /** Of the given services, those that have registered. */
  async knownServices(services: readonly string[]): Promise<Set<string>> {
    if (services.length === 0) return new Set();
    const rows = await this.db.selectFrom("services").select("name").where("name", "in", [...services]).execute();
    return new Set(rows.map((r) => r.name));
  }

  /**
   * Replaces a service's registration: upserts the given permissions as
   * registered and flags its other permissions unregistered (kept, because
   * policies may still hold them). Call inside a transaction. Upserting the
   * service row first takes its row lock, so concurrent registrations of one
   * service apply one after the other.
   */
  async replaceForService(service: string, permissions: readonly PermissionDefinition[], now: Date): Promise<void> {
    await this.db
      .insertInto("services")
      .values({ name: service, update_time: now })
      .onConflict((oc) => oc.column("name").doUpdateSet({ update_time: now }))
      .execute();
    await this.db
      .updateTable("permissions")
      .set({ registered: false, update_time: now })
      .where("service", "=", service)
      .where("registered", "=", true)
      .$if(permissions.length > 0, (q) => q.where("name", "not in", permissions.map((p) => p.name)))
      .execute();
    await publishChange(this.db, this.sink, { kind: "registry" });
    if (permissions.length === 0) return;
    await this.db
      .insertInto("permissions")
      .values(permissions.map((p) => ({ name: p.name, service, description: p.description, registered: true, update_time: now })))
      .onConflict((oc) =>
        oc.column("name").doUpdateSet((eb) => ({
          description: eb.ref("excluded.description"),
          registered: true,
          update_time: now,
        })),
      )
      .execute();
  }
}
