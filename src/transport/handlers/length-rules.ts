// The hot path's shortcut through protovalidate. CheckKeyRequest's rules (in
// check.proto) are length bounds, plus an upper bound on the uint32 `cost`: a
// request whose strings and lists are shorter than them, and whose numbers are
// within them, needs no evaluation, and protovalidate's generic walk cost a few
// microseconds per check. The bounds are read from the descriptor at
// start, so check.proto stays their one source; a message with any other kind
// of rule gets no shortcut, and then every request goes to protovalidate.
import { create, equals, getOption, hasOption, type DescMessage, type Message } from "@bufbuild/protobuf";
import { FieldRulesSchema, field as fieldRules, type FieldRules, message as messageRules, oneof as oneofRules } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";

interface LengthBound {
  name: string;
  /** Strings: at most this many UTF-16 units; lists: at most `maxItems`, each at most `itemMaxLen`. */
  maxLen?: number;
  /** uint32 fields (optional or not): unset, or at most this. */
  lte?: number;
  maxItems?: number;
  itemMaxLen?: number;
}

/**
 * A test that a message certainly passes its rules, or undefined when the
 * rules are not length bounds alone. True is always right; false means "ask
 * protovalidate". protovalidate counts characters (code points), and a
 * string's UTF-16 length is never fewer, so `length <= max` is enough.
 */
export function withinLengthRules(schema: DescMessage): ((message: Message) => boolean) | undefined {
  if (hasOption(schema, messageRules) || schema.oneofs.some((o) => hasOption(o, oneofRules))) return undefined;
  const bounds: LengthBound[] = [];
  for (const field of schema.fields) {
    if (!hasOption(field, fieldRules)) continue;
    const rules = getOption(field, fieldRules);
    const bound = boundOf(field.localName, rules);
    if (!bound || !equals(FieldRulesSchema, rules, rulesOf(bound))) return undefined;
    bounds.push(bound);
  }
  return (message) => {
    const fields = message as unknown as Record<string, unknown>;
    for (const bound of bounds) {
      const value = fields[bound.name];
      if (bound.lte !== undefined) {
        if (value !== undefined && (typeof value !== "number" || value > bound.lte)) return false;
        continue;
      }
      if (bound.maxLen !== undefined) {
        if (typeof value !== "string" || value.length > bound.maxLen) return false;
        continue;
      }
      if (!Array.isArray(value) || value.length > bound.maxItems!) return false;
      for (const item of value) if (typeof item !== "string" || item.length > bound.itemMaxLen!) return false;
    }
    return true;
  };
}

function boundOf(name: string, rules: FieldRules): LengthBound | undefined {
  if (rules.type.case === "string" && rules.type.value.maxLen !== undefined) return { name, maxLen: Number(rules.type.value.maxLen) };
  if (rules.type.case === "uint32" && rules.type.value.lessThan.case === "lte") return { name, lte: rules.type.value.lessThan.value };
  if (rules.type.case === "repeated") {
    const items = rules.type.value.items?.type;
    if (rules.type.value.maxItems === undefined || items?.case !== "string" || items.value.maxLen === undefined) return undefined;
    return { name, maxItems: Number(rules.type.value.maxItems), itemMaxLen: Number(items.value.maxLen) };
  }
  return undefined;
}

/** The rules a bound stands for, to confirm the field declares nothing else. */
function rulesOf(bound: LengthBound) {
  if (bound.lte !== undefined) return create(FieldRulesSchema, { type: { case: "uint32", value: { lessThan: { case: "lte", value: bound.lte } } } });
  if (bound.maxLen !== undefined) return create(FieldRulesSchema, { type: { case: "string", value: { maxLen: BigInt(bound.maxLen) } } });
  return create(FieldRulesSchema, {
    type: {
      case: "repeated",
      value: { maxItems: BigInt(bound.maxItems!), items: { type: { case: "string", value: { maxLen: BigInt(bound.itemMaxLen!) } } } },
    },
  });
}
