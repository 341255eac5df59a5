// keyward permissions list|register
import { readFileSync } from "node:fs";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import {
  AdminGetApiKeyPermissionsResponseSchema,
  PermissionService,
  RegisterPermissionsRequestSchema,
  RegisterPermissionsResponseSchema,
} from "../../gen/keyward/v1/permissions_pb.js";
import { oneCall, positional, requiredFlag, stringFlag, type Command } from "./command.js";
import { UsageError } from "./exit-codes.js";
import { table } from "./output.js";

const list = oneCall({
  path: ["permissions", "list"],
  summary: "List every permission Keyward knows of, by service then name.",
  service: PermissionService,
  answer: AdminGetApiKeyPermissionsResponseSchema,
  call: (permissions) => permissions.adminGetApiKeyPermissions({}),
  lines: (res) =>
    table(
      ["NAME", "SERVICE", "REGISTERED", "DESCRIPTION"],
      res.permissions.map((p) => [p.name, p.service, p.registered ? "yes" : "no", p.description]),
    ),
});

/** The file as a RegisterPermissionsRequest, in protobuf JSON. */
function readRequest(file: string) {
  let json: JsonValue;
  try {
    json = JSON.parse(readFileSync(file, "utf8")) as JsonValue;
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    throw new UsageError(`--file: cannot read ${file} as JSON (${reason})`);
  }
  try {
    return fromJson(RegisterPermissionsRequestSchema, json);
  } catch (err) {
    throw new UsageError(`--file: ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const register: Command = {
  path: ["permissions", "register"],
  summary: "Register a service's full list of permissions from a JSON file, replacing its previous list.",
  flags: {
    file: { type: "string", value: "PATH", help: "the permissions, as JSON (required)" },
    service: { type: "string", value: "NAME", help: "the service (default: the file's \"service\")" },
  },
  notes: [
    "The file is a RegisterPermissionsRequest in protobuf JSON:",
    '  {"service": "billing", "permissions": [{"name": "billing.invoices.read", "description": "Read invoices"}]}',
  ],
  async run(session, values, args) {
    positional(args, []);
    const request = readRequest(requiredFlag(values, "file"));
    request.service = stringFlag(values, "service") ?? request.service;
    if (request.service === "") throw new UsageError('no service: give --service or a "service" in the file');
    const permissions = await session.client(PermissionService);
    const res = await permissions.registerPermissions(request);
    session.answer(RegisterPermissionsResponseSchema, res, () => [`Registered ${res.permissions.length} permission(s) of ${request.service}.`]);
  },
};

export const PERMISSION_COMMANDS: Command[] = [list, register];
