// What a command is: its flags (parsed with node:util parseArgs, which also
// writes their help), its arguments and what it does.
import { parseArgs } from "node:util";
import type { DescMessage, DescService, MessageShape } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import type { Session } from "./session.js";
import { UsageError } from "./exit-codes.js";

export interface Flag {
  type: "string" | "boolean";
  /** A string flag given several times collects every value. */
  multiple?: boolean;
  short?: string;
  /** What the value is, in help: `--ttl DURATION`. */
  value?: string;
  help: string;
}

export type Flags = Record<string, Flag>;

/** The values parseArgs found, by flag name. */
export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Command {
  /** `["keys", "create"]`. */
  path: [string, string];
  summary: string;
  /** Positional arguments, in help: `ID`. */
  args?: string;
  /** Lines of help after the flags. */
  notes?: string[];
  flags: Flags;
  run(session: Session, values: Values, args: string[]): Promise<void>;
}

/**
 * A command without flags of its own that makes one call, with its `ID`
 * argument if `args` is "ID", and prints the answer (see Session.answer).
 */
export function oneCall<S extends DescService, D extends DescMessage>(command: {
  path: [string, string];
  summary: string;
  args?: "ID";
  notes?: string[];
  service: S;
  answer: D;
  call: (client: Client<S>, id: string) => Promise<MessageShape<D>>;
  lines: (answer: MessageShape<D>, id: string) => string[];
}): Command {
  const { service, answer, call, lines, ...shown } = command;
  return {
    ...shown,
    flags: {},
    async run(session, _values, args) {
      const [id = ""] = positional(args, command.args ? [command.args] : []);
      const res = await call(await session.client(service), id);
      session.answer(answer, res, (m) => lines(m, id));
    },
  };
}

/** Flags every command takes. */
export const GLOBAL_FLAGS: Flags = {
  url: { type: "string", value: "URL", help: "Keyward's address (default: $KEYWARD_URL, else http://127.0.0.1:8080)" },
  "key-file": { type: "string", value: "PATH", help: "read the admin key from this file instead of $KEYWARD_ADMIN_KEY" },
  json: { type: "boolean", help: "print one JSON document (protobuf JSON) instead of a table" },
  help: { type: "boolean", short: "h", help: "show help" },
};

export function parse(flags: Flags, argv: string[]): { values: Values; args: string[] } {
  const options = Object.fromEntries(
    Object.entries(flags).map(([name, f]) => [name, { type: f.type, multiple: f.multiple ?? false, ...(f.short ? { short: f.short } : {}) }]),
  );
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as Values, args: positionals };
  } catch (err) {
    // parseArgs's messages name the flag ("Unknown option '--nme'"); keep them, drop Node's error code.
    throw new UsageError(err instanceof Error ? err.message.replace(/\. To specify a positional argument.*$/s, "") : String(err));
  }
}

export function flagHelp(flags: Flags): string[] {
  const rows = Object.entries(flags).map(([name, f]) => {
    const short = f.short ? `-${f.short}, ` : "";
    const value = f.type === "string" ? ` ${f.value ?? "VALUE"}` : "";
    return [`  ${short}--${name}${value}`, f.multiple ? `${f.help} (repeatable)` : f.help] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${left.padEnd(width)}  ${right}`);
}

export function commandHelp(command: Command): string {
  return [
    `Usage: keyward ${command.path.join(" ")}${command.args ? ` ${command.args}` : ""} [flags]`,
    "",
    command.summary,
    "",
    "Flags:",
    ...flagHelp(command.flags),
    "",
    "Global flags:",
    ...flagHelp(GLOBAL_FLAGS),
    ...(command.notes ? ["", ...command.notes] : []),
    "",
  ].join("\n");
}

// Typed readers over Values: parseArgs types its result from a literal config, not a table like ours.

export function stringFlag(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

export function listFlag(values: Values, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : [];
}

export function requiredFlag(values: Values, name: string): string {
  const v = stringFlag(values, name);
  if (v === undefined || v === "") throw new UsageError(`--${name} is required`);
  return v;
}

/** Exactly the positional arguments `names` (e.g. `["ID"]`). */
export function positional(args: string[], names: string[]): string[] {
  if (args.length !== names.length) {
    throw new UsageError(args.length < names.length ? `missing ${names.slice(args.length).join(" ")}` : `unexpected argument "${args[names.length]}"`);
  }
  return args;
}
