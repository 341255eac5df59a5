// `npm run recover`: issues a new admin key straight into the store, for an
// operator who can no longer administer Keyward through its API (every admin
// key lost, expired or deleted). Same configuration as `npm start`
// (DATABASE_URL or KEYWARD_DATA_DIR; KEYWARD_BOOTSTRAP_KEY_FILE for where the
// key goes). The embedded store can be opened by one process at a time: stop
// the server first. On PostgreSQL it runs beside running servers, which read
// the new key from the store on its first use.
import { defaultBootstrapDelivery } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { recoverAdminKey } from "./domain/bootstrap.js";
import { DomainError } from "./domain/errors.js";
import { SecretHasher } from "./domain/secret-hasher.js";
import { openStore } from "./storage/open.js";

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`keyward recover: configuration error: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const store = await openStore(config.store);
  try {
    const deliver = defaultBootstrapDelivery(config.bootstrapKeyFile, "recovered admin key");
    const recovered = await recoverAdminKey({ store, hasher: new SecretHasher(config.hashCost), settings: config, now: () => new Date(), deliver });
    const where = config.bootstrapKeyFile === undefined ? "above" : `to ${config.bootstrapKeyFile}`;
    process.stderr.write(
      `keyward recover: issued admin key ${recovered.keyId} on the policy keyward-admin` +
        `${recovered.policyCreated ? " (recreated, holding *)" : ""}; its credentials were written ${where}; audited as RecoverAdminKey\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof DomainError) {
      process.stderr.write(`keyward recover: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await store.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`keyward recover: failed: ${error instanceof Error ? error.message : String(error)}\n`);
    if (error instanceof Error && error.cause) process.stderr.write(`  cause: ${String(error.cause)}\n`);
    process.exit(1);
  },
);
