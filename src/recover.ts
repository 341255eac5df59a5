// `npm run recover`: issues a new admin key straight into the store, for an
// operator who can no longer administer Keyward through its API (every admin
// key lost, expired or deleted). Same configuration as `npm start`
// (DATABASE_URL or KEYWARD_DATA_DIR; KEYWARD_BOOTSTRAP_KEY_FILE for where the
// key goes). The embedded store can be opened by one process at a time: stop
// the server first. On PostgreSQL it runs beside running servers, which read
// the new key from the store on its first use.
import { recoverAdminKey } from "./domain/bootstrap.js";
import { DomainError } from "./domain/errors.js";
import { SecretHasher } from "./domain/secret-hasher.js";
import { openStore } from "./storage/open.js";
import { configOrExit, defaultBootstrapDelivery, failAndExit } from "./process-io.js";

async function main(): Promise<number> {
  const config = configOrExit("keyward recover");
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
  (error: unknown) => failAndExit("keyward recover: failed", error),
);
