// Entry point: configuration, the port, Keyward, and SIGTERM.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createKeyward } from "./app.js";
import type { Config } from "./config.js";
import { installRoot } from "./install-root.js";
import { createLogger } from "./logger.js";
import { configOrExit, failAndExit } from "./process-io.js";
import { connectionLimits, startingHandler } from "./server.js";
import { describeTarget } from "./storage/postgres-reach.js";
import { startTelemetry } from "./telemetry.js";
import { OnePortServer } from "./transport/one-port.js";

/** What the store is, for the start line: where the data lives; never a password. */
function storeDescription(store: Config["store"]): string {
  return store.kind === "postgres" ? `PostgreSQL ${describeTarget(store.url)}` : store.dataDir === undefined ? "embedded PGlite in memory" : `embedded PGlite in ${resolve(store.dataDir)}`;
}

/** This package's version, for the start line. */
function version(): string {
  return (JSON.parse(readFileSync(join(installRoot(), "package.json"), "utf8")) as { version: string }).version;
}

async function main(): Promise<void> {
  const config = configOrExit("keyward");
  const logger = createLogger(config.logLevel);
  // Signals are caught from the first moment: the default action would kill
  // the process mid-write during the start, or in the instant between the
  // start line going out and a handler being installed, which is exactly
  // when a supervisor that waits for that line may send SIGTERM. The first
  // one is acted on once the start is done; later ones change nothing.
  const signalled = new Promise<string>((resolve) => {
    process.on("SIGTERM", () => resolve("SIGTERM"));
    process.on("SIGINT", () => resolve("SIGINT"));
  });
  // The port first: a start that cannot have it must stop before the store
  // is opened (and, for the embedded store, created or locked). Until the
  // store is ready the port answers 503.
  const server = new OnePortServer(startingHandler, connectionLimits(config.connections));
  try {
    await server.listen(config.port, config.host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = `${config.host}:${config.port}`;
    if (code === "EADDRINUSE") throw new Error(`${where} is already in use (EADDRINUSE): stop what listens there, or set KEYWARD_PORT to a free port`);
    if (code === "EACCES") throw new Error(`not allowed to listen on ${where} (EACCES): use a port above 1023, or set KEYWARD_PORT`);
    if (code === "EADDRNOTAVAIL") throw new Error(`${config.host} is not an address of this machine (EADDRNOTAVAIL): check KEYWARD_HOST`);
    throw error;
  }
  // Before the store opens, so its first queries are traced too.
  const telemetry = await startTelemetry(version());
  let keyward;
  try {
    keyward = await createKeyward(config, logger, { server, tracing: telemetry !== undefined });
  } catch (error) {
    await server.close(0);
    throw error;
  }
  const address = await keyward.listen();
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const store = storeDescription(config.store);
  logger.info(
    {
      url: `http://${host}:${address.port}`,
      store: config.store.kind,
      database: store,
      version: version(),
      tracing: telemetry !== undefined,
      node: process.version,
      pid: process.pid,
      startupMs: Math.round(performance.now()),
    },
    "keyward listening (gRPC, gRPC-Web and Connect on one port)",
  );
  process.stdout.write(`Keyward listening on http://${host}:${address.port} (store: ${store})\n`);

  void signalled.then((signal) => {
    const since = performance.now();
    logger.info({ signal, graceMs: config.shutdownGraceMs }, "draining");
    keyward
      .close()
      // The spans still buffered go out before the process ends.
      .then(() => telemetry?.shutdown())
      .then(
        () => {
          logger.info({ signal, drainMs: Math.round(performance.now() - since) }, "keyward stopped");
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
  });
}

main().catch((error: unknown) => failAndExit("keyward: failed to start", error));
