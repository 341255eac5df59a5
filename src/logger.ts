import { pino, type Logger } from "pino";
import { loggedError } from "./logged-error.js";

// Defence in depth: Keyward never passes headers or credentials to the
// logger, and these paths are censored should one ever get there.
const CENSOR = "[redacted]";
const REDACT_TOP_LEVEL = ["authorization", "credentials", "key", "secret"];
const REDACT = [
  ...REDACT_TOP_LEVEL,
  "*.authorization",
  '*["api-key"]',
  '*["x-api-key"]',
  "*.credentials",
  "*.key",
  "*.secret",
  "*.headers.authorization",
  '*.headers["api-key"]',
  '*.headers["x-api-key"]',
];

// Lines go to stdout in blocks of about 4 KiB, not one write(2) per RPC: on the
// hot path that saved about 60 µs of CPU per call (npm run bench). A quiet
// server's lines still show within a second. pino writes what is left when the
// process exits; a kill -9 may lose the last lines (the audit log is in the
// database, not here).
function bufferedStdout(): pino.DestinationStream {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const timer = setInterval(() => destination.flush(), 1000).unref();
  destination.once("close", () => clearInterval(timer));
  return destination;
}

export function createLogger(level: string, destination: pino.DestinationStream = bufferedStdout()): Logger {
  // `err` keeps only bounded, safe fields: never a driver's SQL parameters (src/logged-error.ts).
  return pino(
    { level, base: { service: "keyward" }, redact: { paths: REDACT, censor: CENSOR }, serializers: { err: loggedError } },
    destination,
  );
}

/**
 * For lines made only of scalar fields (the per-RPC access line): the paths
 * inside objects can match nothing there, and checking them is not free —
 * @pinojs/redact parses every `*.` path against every field of every line,
 * about 10 µs and 20 KB of garbage per line (npm run bench). Lines that carry
 * an object (`err`) go through the full list.
 */
export function scalarLineLogger(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: REDACT_TOP_LEVEL, censor: CENSOR } });
}
