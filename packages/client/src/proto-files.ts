// Reading keyward.v1 options straight from .proto files, for services that
// load their protos at run time (grpc-js with @grpc/proto-loader). proto-loader
// keeps method options only, and only the last value of a repeated one; the
// protobufjs parser under it keeps them all, service options included.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import type * as Protobuf from "protobufjs";

/** A service as protobufjs parses it (the fields this library reads). */
export interface ParsedService {
  fullName: string;
  parsedOptions?: Array<Record<string, unknown>> | null;
  methods: Record<string, { name: string; parsedOptions?: Array<Record<string, unknown>> | null }>;
}

const require = createRequire(import.meta.url);

/**
 * Every service defined in `files` (paths relative to an include dir), with
 * its options, keyed by full name without the leading dot
 * (e.g. "orders.v1.OrderService").
 */
export function loadProtoServices(files: string | string[], options: { includeDirs: string[] }): Map<string, ParsedService> {
  const protobuf = require("protobufjs") as typeof Protobuf;
  // protobufjs ships google/protobuf/*.proto (descriptor.proto, which options.proto imports).
  const bundled = dirname(require.resolve("protobufjs/package.json"));
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    if (isAbsolute(target)) return target;
    for (const dir of [...options.includeDirs, bundled]) if (existsSync(join(dir, target))) return join(dir, target);
    return target;
  };
  root.loadSync(files, { keepCase: true });
  root.resolveAll();
  const services = new Map<string, ParsedService>();
  const visit = (ns: Protobuf.NamespaceBase) => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Service) services.set(nested.fullName.slice(1), nested as unknown as ParsedService);
      else if (nested instanceof protobuf.Namespace) visit(nested);
    }
  };
  visit(root);
  return services;
}

/** Every value of option `name` in protobufjs's parsed options (repeated options appear once per value). */
export const optionValues = (parsed: ParsedService["parsedOptions"], name: string): unknown[] =>
  (parsed ?? []).flatMap((o) => (name in o ? [o[name]] : []));
