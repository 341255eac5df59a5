// Entry point: configuration, Keyward, the port, and SIGTERM.
import { createKeyward } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./logger.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`keyward: configuration error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const keyward = await createKeyward(config, logger);
  const address = await keyward.listen();
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  logger.info(
    { url: `http://${host}:${address.port}`, store: config.store.kind },
    "keyward listening (gRPC, gRPC-Web and Connect on one port)",
  );
  process.stdout.write(`Keyward listening on http://${host}:${address.port} (store: ${config.store.kind})\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "draining");
    keyward.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`keyward: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  if (error instanceof Error && error.cause) process.stderr.write(`  cause: ${String(error.cause)}\n`);
  process.exit(1);
});
