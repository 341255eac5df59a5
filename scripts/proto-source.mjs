// Writes .proto source for a file descriptor that a package ships only in
// compiled form (protovalidate's buf/validate/validate.proto lives in
// @bufbuild/protovalidate as an embedded descriptor). It covers what such
// option-declaring files use: proto2/proto3 messages, oneofs, enums, reserved
// and extension ranges, extensions, and options, custom ones included. Anything
// else throws, so a package update cannot silently change what buf compiles;
// test/proto/validate-proto.test.ts compiles the output with buf and compares
// it to the original descriptor.
import { createRegistry, getExtension, hasExtension, isFieldSet } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import { toText } from "@bufbuild/protobuf/txtpb";
import {
  EnumOptionsSchema,
  FieldDescriptorProtoSchema,
  FieldOptionsSchema,
  FileOptionsSchema,
  MessageOptionsSchema,
  OneofOptionsSchema,
} from "@bufbuild/protobuf/wkt";

const SCALAR_NAMES = {
  1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64", 7: "fixed32",
  8: "bool", 9: "string", 12: "bytes", 13: "uint32", 15: "sfixed32", 16: "sfixed64", 17: "sint32", 18: "sint64",
};
const TYPE_MESSAGE = 11;
const TYPE_ENUM = 14;
const LABELS = { 1: "optional", 2: "required", 3: "repeated" };
const MAX_FIELD_NUMBER_EXCLUSIVE = 536_870_912;

/** protoc's default JSON name: underscores removed, the letter after each one upper-cased. */
function defaultJsonName(name) {
  return name.replace(/_+([a-z0-9]?)/g, (_m, next) => next.toUpperCase());
}

/** The oneof a field belongs to, or undefined (proto2 presence: 0 is a real index). */
function oneofOf(f) {
  return isFieldSet(f, FieldDescriptorProtoSchema.field.oneofIndex) ? f.oneofIndex : undefined;
}

function unsupported(what) {
  throw new Error(`proto-source: ${what} is not supported; extend scripts/proto-source.mjs`);
}

/**
 * The options of one descriptor element as `name = value` strings: the
 * standard ones set on it, then the custom ones declared by `file`.
 */
function optionAssignments(schema, options, file, registry) {
  if (!options) return [];
  const out = [];
  const r = reflect(schema, options);
  for (const field of r.fields) {
    if (!r.isSet(field)) continue;
    if (field.fieldKind !== "scalar" && field.fieldKind !== "enum") unsupported(`option ${field.name}`);
    const value = r.get(field);
    const literal = field.fieldKind === "enum"
      ? field.enum.values.find((v) => v.number === value).name
      : typeof value === "string" ? JSON.stringify(value) : String(value);
    out.push(`${field.name} = ${literal}`);
  }
  const known = new Set();
  for (const ext of file.extensions) {
    if (ext.extendee.typeName !== schema.typeName) continue;
    known.add(ext.number);
    if (!hasExtension(options, ext)) continue;
    if (ext.fieldKind !== "message") unsupported(`custom option (${ext.name}) of kind ${ext.fieldKind}`);
    const body = toText(ext.message, getExtension(options, ext), { registry }).trimEnd();
    out.push(`(${ext.name}) = {\n${indent(body, 1)}\n}`);
  }
  for (const u of options.$unknown ?? []) {
    if (!known.has(u.no)) unsupported(`option field ${u.no} on ${schema.typeName} from another file`);
  }
  return out;
}

/** Message ranges end exclusive; enum ranges (`inclusive`) end inclusive. */
function ranges(list, { inclusive = false } = {}) {
  return list
    .map((r) => {
      const last = inclusive ? r.end : r.end - 1;
      if (last === r.start) return `${r.start}`;
      return `${r.start} to ${!inclusive && r.end === MAX_FIELD_NUMBER_EXCLUSIVE ? "max" : last}`;
    })
    .join(", ");
}

function reservedLines(element, inclusive) {
  const lines = [];
  if (element.reservedRange.length) lines.push(`reserved ${ranges(element.reservedRange, { inclusive })};`);
  if (element.reservedName.length) lines.push(`reserved ${element.reservedName.map((n) => JSON.stringify(n)).join(", ")};`);
  return lines;
}

function indent(text, depth) {
  const pad = "  ".repeat(depth);
  return text.split("\n").map((line) => (line === "" ? line : pad + line)).join("\n");
}

function fieldLine(f, file, registry, syntax) {
  if (f.defaultValue !== "") unsupported(`default value on ${f.name}`);
  if (f.proto3Optional) unsupported(`proto3 optional on ${f.name}`);
  const type = f.type === TYPE_MESSAGE || f.type === TYPE_ENUM ? f.typeName : SCALAR_NAMES[f.type] ?? unsupported(`field type ${f.type}`);
  const inOneof = oneofOf(f) !== undefined;
  const label = inOneof || (syntax === "proto3" && f.label === 1) ? "" : `${LABELS[f.label]} `;
  const options = optionAssignments(FieldOptionsSchema, f.options, file, registry);
  if (f.jsonName && f.jsonName !== defaultJsonName(f.name)) options.unshift(`json_name = ${JSON.stringify(f.jsonName)}`);
  const suffix = options.length ? ` [\n${indent(options.join(",\n"), 1)}\n]` : "";
  return `${label}${type} ${f.name} = ${f.number}${suffix};`;
}

function messageBlock(m, file, registry, syntax) {
  if (m.nestedType.length || m.enumType.length || m.extension.length) unsupported(`nested declarations in ${m.name}`);
  const lines = [];
  for (const o of optionAssignments(MessageOptionsSchema, m.options, file, registry)) lines.push(`option ${o};`);
  lines.push(...reservedLines(m, false));
  for (const r of m.extensionRange) {
    if (r.options) unsupported(`extension range options in ${m.name}`);
    lines.push(`extensions ${ranges([r])};`);
  }
  for (let i = 0; i < m.field.length; i++) {
    const f = m.field[i];
    const oneofIndex = oneofOf(f);
    if (oneofIndex === undefined) {
      lines.push(fieldLine(f, file, registry, syntax));
      continue;
    }
    const oneof = m.oneofDecl[oneofIndex];
    const members = [];
    while (i < m.field.length && oneofOf(m.field[i]) === oneofIndex) members.push(m.field[i++]);
    i--;
    const body = [
      ...optionAssignments(OneofOptionsSchema, oneof.options, file, registry).map((o) => `option ${o};`),
      ...members.map((member) => fieldLine(member, file, registry, syntax)),
    ];
    lines.push(`oneof ${oneof.name} {\n${indent(body.join("\n"), 1)}\n}`);
  }
  return `message ${m.name} {\n${indent(lines.join("\n"), 1)}\n}`;
}

function enumBlock(e, file, registry) {
  const lines = optionAssignments(EnumOptionsSchema, e.options, file, registry).map((o) => `option ${o};`);
  lines.push(...reservedLines(e, true));
  for (const v of e.value) {
    if (v.options) unsupported(`enum value options on ${v.name}`);
    lines.push(`${v.name} = ${v.number};`);
  }
  return `enum ${e.name} {\n${indent(lines.join("\n"), 1)}\n}`;
}

/** The .proto source of `file` (a DescFile, e.g. `file_buf_validate_validate`). */
export function protoSource(file, origin) {
  const proto = file.proto;
  const syntax = proto.syntax || "proto2";
  if (syntax !== "proto2" && syntax !== "proto3") unsupported(`syntax "${syntax}"`);
  if (proto.service.length) unsupported("services");
  const registry = createRegistry(file);
  const parts = [
    `// Written by scripts/proto-source.mjs from the descriptor embedded in ${origin}.\n// Do not edit: scripts/stage-protos.mjs rewrites it.`,
    `syntax = "${syntax}";`,
    `package ${proto.package};`,
    proto.dependency.map((d) => `import ${JSON.stringify(d)};`).join("\n"),
    optionAssignments(FileOptionsSchema, proto.options, file, registry).map((o) => `option ${o};`).join("\n"),
  ];
  const byExtendee = new Map();
  for (const x of proto.extension) {
    if (!byExtendee.has(x.extendee)) byExtendee.set(x.extendee, []);
    byExtendee.get(x.extendee).push(x);
  }
  for (const [extendee, fields] of byExtendee) {
    parts.push(`extend ${extendee} {\n${indent(fields.map((f) => fieldLine(f, file, registry, syntax)).join("\n"), 1)}\n}`);
  }
  for (const m of proto.messageType) parts.push(messageBlock(m, file, registry, syntax));
  for (const e of proto.enumType) parts.push(enumBlock(e, file, registry));
  return `${parts.filter((p) => p !== "").join("\n\n")}\n`;
}
