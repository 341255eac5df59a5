// The fields a key is created and edited with that need more than an input:
// constraints (rows of type and value), subnets and labels as text.
import { ConstraintType, type Constraint } from "../../gen/keyward/v1/api_keys_pb.js";

export interface ConstraintRow {
  type: ConstraintType;
  value: string;
}

export const CONSTRAINT_TYPES: Array<[ConstraintType, string]> = [
  [ConstraintType.EXACT, "Exact path"],
  [ConstraintType.PREFIX, "Path prefix"],
  [ConstraintType.REGEX, "Path regex"],
  [ConstraintType.VERB, "HTTP methods"],
];

export const constraintTypeName = (type: ConstraintType): string => CONSTRAINT_TYPES.find(([t]) => t === type)?.[1] ?? "Unknown";

export const constraintRowsOf = (constraints: readonly Constraint[]): ConstraintRow[] => constraints.map((c) => ({ type: c.type, value: c.value }));

/** Subnets as typed: one CIDR per line (commas and spaces also separate). */
export const subnetsOf = (text: string): string[] => text.split(/[\s,]+/).filter(Boolean);

/** Labels as typed: one `key=value` per line (a value may hold any character but a line break). */
export function labelsOf(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "") continue;
    const at = trimmed.indexOf("=");
    if (at < 0) labels[trimmed] = "";
    else labels[trimmed.slice(0, at).trim()] = trimmed.slice(at + 1).trim();
  }
  return labels;
}

export const labelsText = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join("\n");

export function ConstraintsInput(props: { value: ConstraintRow[]; onChange: (rows: ConstraintRow[]) => void }) {
  const rows = props.value;
  const change = (i: number, row: Partial<ConstraintRow>) => props.onChange(rows.map((x, j) => (j === i ? { ...x, ...row } : x)));
  return (
    <fieldset>
      <legend>Constraints (optional; a request passes if it matches any)</legend>
      {rows.map((c, i) => (
        <div class="constraint-row">
          <label for={`constraint-type-${i}`}>Type</label>
          <select id={`constraint-type-${i}`} value={String(c.type)} onChange={(e) => change(i, { type: Number(e.currentTarget.value) as ConstraintType })}>
            {CONSTRAINT_TYPES.map(([t, label]) => (
              <option value={String(t)}>{label}</option>
            ))}
          </select>
          <label for={`constraint-value-${i}`}>Value</label>
          <input id={`constraint-value-${i}`} value={c.value} onInput={(e) => change(i, { value: e.currentTarget.value })} />
          <button type="button" class="secondary" onClick={() => props.onChange(rows.filter((_, j) => j !== i))} aria-label={`Remove constraint ${i + 1}`}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" class="secondary" onClick={() => props.onChange([...rows, { type: ConstraintType.PREFIX, value: "" }])}>
        Add constraint
      </button>
    </fieldset>
  );
}

/** The `errorFor(prefix)` forms use: the server's message for a field or any part of it. */
export const errorLookup =
  (errors: Record<string, string>) =>
  (prefix: string): string | undefined =>
    Object.entries(errors).find(([f]) => f === prefix || f.startsWith(`${prefix}[`) || f.startsWith(`${prefix}.`))?.[1];
