// What a service's protos declare, read from either kind of descriptor a Node
// service has: @bufbuild/protobuf's DescService (protoc-gen-es, Connect) or a
// @grpc/proto-loader service definition (grpc-js). proto-loader keeps method
// options only, so with it the service-level default and descriptions are not
// seen: put required_permissions on each method.
import { getOption, hasOption, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { any_valid_key, default_required_permissions, permission, required_permissions } from "./gen/keyward/v1/options_pb.js";
import { optionValues, type ParsedService } from "./proto-files.js";
import type { PermissionDefinition } from "./wire.js";

/** Every permission named must be granted; ANY_VALID_KEY = any key Keyward accepts. */
export const ANY_VALID_KEY: readonly string[] = Object.freeze([]);
/** A method's requirement: the names it needs, or undefined when its protos declare nothing (refused: fail closed). */
export type Requirement = readonly string[] | undefined;

/** A @grpc/proto-loader method definition, as far as this library reads it. */
export interface LoadedMethodDefinition {
  path: string;
  options?: Record<string, unknown>;
}
export type LoadedServiceDefinition = Record<string, LoadedMethodDefinition>;

/** DescService (protoc-gen-es), a service from loadProtoServices (protobufjs), or a proto-loader service definition (method options only). */
export type ServiceDescriptor = DescService | ParsedService | LoadedServiceDefinition;

export interface DeclaredMethod {
  /** The gRPC path, /package.Service/Method. */
  path: string;
  /** The method's name as a grpc-js implementation object names it (both spellings are tried). */
  names: readonly string[];
  requirement: Requirement;
}

export interface DeclaredService {
  methods: DeclaredMethod[];
  /** Permissions declared with keyward.v1.permission (descriptions). */
  described: PermissionDefinition[];
}

/** Splits an option value listing names by commas or spaces. */
export const splitNames = (value: string): string[] => value.split(/[\s,]+/).filter((s) => s !== "");

const isDescService = (d: ServiceDescriptor): d is DescService => (d as DescService).kind === "service";
const isParsedService = (d: ServiceDescriptor): d is ParsedService => typeof (d as ParsedService).fullName === "string" && typeof (d as ParsedService).methods === "object";

const REQUIRED = "(keyward.v1.required_permissions)";
const ANY_KEY = "(keyward.v1.any_valid_key)";

function requirementOfParsed(service: ParsedService, method: ParsedService["methods"][string]): Requirement {
  if (optionValues(method.parsedOptions, ANY_KEY).includes(true)) return ANY_VALID_KEY;
  const own = optionValues(method.parsedOptions, REQUIRED).flatMap((v) => (typeof v === "string" ? splitNames(v) : []));
  if (own.length > 0) return own;
  const fallback = optionValues(service.parsedOptions, "(keyward.v1.default_required_permissions)").flatMap((v) => (typeof v === "string" ? splitNames(v) : []));
  return fallback.length > 0 ? fallback : undefined;
}

function requirementOfDesc(method: DescMethod): Requirement {
  if (hasOption(method, any_valid_key) && getOption(method, any_valid_key)) return ANY_VALID_KEY;
  const own = hasOption(method, required_permissions) ? splitNames(getOption(method, required_permissions)) : [];
  if (own.length > 0) return own;
  const fallback = splitNames(getOption(method.parent, default_required_permissions));
  return fallback.length > 0 ? fallback : undefined;
}

function requirementOfLoaded(method: LoadedMethodDefinition): Requirement {
  const options = method.options ?? {};
  if (options[ANY_KEY] === true) return ANY_VALID_KEY;
  const value = options[REQUIRED];
  const own = typeof value === "string" ? splitNames(value) : [];
  return own.length > 0 ? own : undefined;
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

export function declaredService(descriptor: ServiceDescriptor): DeclaredService {
  if (isDescService(descriptor)) {
    return {
      methods: descriptor.methods.map((m) => ({ path: `/${descriptor.typeName}/${m.name}`, names: [m.name, m.localName, lowerFirst(m.name)], requirement: requirementOfDesc(m) })),
      described: getOption(descriptor, permission).map((p) => ({ name: p.name, description: p.description })),
    };
  }
  if (isParsedService(descriptor)) {
    const typeName = descriptor.fullName.replace(/^\./, "");
    return {
      methods: Object.values(descriptor.methods).map((m) => ({ path: `/${typeName}/${m.name}`, names: [m.name, lowerFirst(m.name)], requirement: requirementOfParsed(descriptor, m) })),
      described: optionValues(descriptor.parsedOptions, "(keyward.v1.permission)").flatMap((v) => {
        const p = v as { name?: unknown; description?: unknown };
        return typeof p.name === "string" ? [{ name: p.name, description: typeof p.description === "string" ? p.description : "" }] : [];
      }),
    };
  }
  return {
    methods: Object.entries(descriptor).map(([name, m]) => ({ path: m.path, names: [name, lowerFirst(name)], requirement: requirementOfLoaded(m) })),
    described: [],
  };
}

/**
 * The permissions `service` defines, from its descriptors: those described at
 * service level, and every name its methods require that belongs to it (the
 * first segment is the service), in name order.
 */
export function permissionsToRegister(service: string, descriptors: readonly ServiceDescriptor[]): PermissionDefinition[] {
  const byName = new Map<string, string>();
  for (const d of descriptors.map(declaredService)) {
    for (const p of d.described) byName.set(p.name, p.description || (byName.get(p.name) ?? ""));
    for (const m of d.methods) for (const name of m.requirement ?? []) if (!byName.has(name)) byName.set(name, "");
  }
  return [...byName]
    .filter(([name]) => name.startsWith(`${service}.`))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, description]) => ({ name, description }));
}
