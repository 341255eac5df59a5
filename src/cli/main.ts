// keyward: the admin command line, over Connect. `main` parses the command
// line, runs one command and returns the exit code (exit-codes.ts); bin/keyward.mjs
// calls it, and so does running this file directly (node --import tsx src/cli/main.ts).
import { pathToFileURL } from "node:url";
import { AUDIT_COMMANDS } from "./audit.js";
import { commandHelp, flagHelp, GLOBAL_FLAGS, parse, type Command } from "./command.js";
import { describeFailure, EXIT, UsageError } from "./exit-codes.js";
import { KEY_COMMANDS } from "./keys.js";
import { PERMISSION_COMMANDS } from "./permissions.js";
import { POLICY_COMMANDS } from "./policies.js";
import { Session } from "./session.js";

const COMMANDS: Command[] = [...KEY_COMMANDS, ...POLICY_COMMANDS, ...PERMISSION_COMMANDS, ...AUDIT_COMMANDS];
const GROUPS = [...new Set(COMMANDS.map((c) => c.path[0]))];

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.path.join(" ").length));
  return [
    "Usage: keyward <group> <command> [flags]",
    "",
    "Administers a Keyward server over Connect.",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.path.join(" ").padEnd(width)}  ${c.summary}`),
    "",
    "Global flags:",
    ...flagHelp(GLOBAL_FLAGS),
    "",
    "Environment:",
    "  KEYWARD_URL        Keyward's address (default http://127.0.0.1:8080)",
    "  KEYWARD_ADMIN_KEY  the admin key to call with. It is never taken as an argument, which",
    "                     shell history and ps would keep: use this variable or --key-file.",
    "",
    "Output: tables for people; --json prints one JSON document (protobuf JSON) for scripts.",
    "A new key's credentials (keys create, keys rotate) go to stdout only, once.",
    "",
    "Exit codes:",
    "  0   ok",
    "  1   usage error (bad flags or arguments; nothing was sent)",
    "  2   not found",
    "  3   unauthenticated or permission denied (no admin key, a bad one, or one without the permission)",
    "  4   rejected: invalid argument, already exists, failed precondition",
    "  5   unavailable: Keyward unreachable or not ready (worth retrying)",
    "  10  any other error",
    "",
    "Run `keyward <group> <command> --help` for a command's flags.",
    "",
  ].join("\n");
}

function groupHelp(group: string): string {
  const commands = COMMANDS.filter((c) => c.path[0] === group);
  const width = Math.max(...commands.map((c) => c.path[1].length));
  return [
    `Usage: keyward ${group} <command> [flags]`,
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.path[1].padEnd(width)}  ${c.summary}`),
    "",
  ].join("\n");
}

export async function main(
  argv: string[],
  io: { env: NodeJS.ProcessEnv; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process,
): Promise<number> {
  const wantsJson = argv.includes("--json");
  try {
    const [group, verb, ...rest] = argv;
    if (group === undefined || group === "--help" || group === "-h" || group === "help") {
      io.stdout.write(mainHelp());
      return group === undefined ? EXIT.usage : EXIT.ok;
    }
    if (!GROUPS.includes(group)) throw new UsageError(`unknown command "${group}" (keyward --help lists them)`);
    if (verb === undefined || verb === "--help" || verb === "-h") {
      io.stdout.write(groupHelp(group));
      return verb === undefined ? EXIT.usage : EXIT.ok;
    }
    const command = COMMANDS.find((c) => c.path[0] === group && c.path[1] === verb);
    if (command === undefined) {
      throw new UsageError(`${verb.startsWith("-") ? `which ${group} command?` : `unknown command "${group} ${verb}"`} (keyward ${group} --help lists them)`);
    }
    try {
      const { values, args } = parse({ ...command.flags, ...GLOBAL_FLAGS }, rest);
      if (values.help === true) {
        io.stdout.write(commandHelp(command));
        return EXIT.ok;
      }
      await command.run(new Session(values, io.env, io.stdout), values, args);
      return EXIT.ok;
    } catch (err) {
      if (err instanceof UsageError) err.message += ` (keyward ${command.path.join(" ")} --help shows its flags)`;
      throw err;
    }
  } catch (err) {
    const failure = describeFailure(err);
    // Errors go to stderr, as JSON too for scripts that asked for it; never a credential:
    // the server's messages carry none and the CLI names the admin key only by where it came from.
    io.stderr.write(
      wantsJson
        ? `${JSON.stringify({ code: failure.code, message: failure.message, exitCode: failure.exitCode })}\n`
        : `keyward: ${failure.code === "usage" || failure.code === "error" ? "" : `${failure.code}: `}${failure.message}\n`,
    );
    return failure.exitCode;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
