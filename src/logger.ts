import { pino, type Logger } from "pino";

// Defence in depth: Keyward never passes headers or credentials to the
// logger, and these paths are censored should one ever get there.
const REDACT = [
  "authorization",
  "credentials",
  "key",
  "secret",
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

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: "keyward" }, redact: { paths: REDACT, censor: "[redacted]" } }, destination);
}
