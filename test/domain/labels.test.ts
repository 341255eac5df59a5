// The domain's own check of labels and label filters, one row per rule: the
// same bounds proto/ declares, for callers that come without a request.
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/domain/errors.js";
import { checkLabels, parseLabelFilters } from "../../src/domain/labels.js";

describe("checkLabels", () => {
  it("accepts the bounds themselves", () => {
    const labels = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, "😀".repeat(256)]));
    labels[`a${"b".repeat(62)}`] = "";
    delete labels.k0;
    expect(checkLabels("labels", labels)).toEqual(labels);
  });

  it.each([
    ["17 labels", Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])), "labels: at most 16 labels"],
    ["an upper-case key", { Team: "x" }, 'labels["Team"]: a label key'],
    ["a 64-character key", { [`a${"b".repeat(63)}`]: "x" }, "a label key"],
    ["an empty key", { "": "x" }, 'labels[""]'],
    ["a 257-character value", { team: "😀".repeat(257) }, 'labels["team"]: a label value is at most 256 characters'],
  ])("refuses %s", (_what, labels, message) => {
    expect(() => checkLabels("labels", labels)).toThrow(InvalidArgumentError);
    expect(() => checkLabels("labels", labels)).toThrow(message);
  });
});

describe("parseLabelFilters", () => {
  it("reads key=value, key= (the empty value) and key (any value), splitting at the first =", () => {
    expect(parseLabelFilters("label", ["team=payments", "on-call=", "ticket", "expr=a=b"])).toEqual([
      { key: "team", value: "payments" },
      { key: "on-call", value: "" },
      { key: "ticket", value: null },
      { key: "expr", value: "a=b" },
    ]);
  });

  it.each([["Team=x"], ["=x"], [""], [`team=${"v".repeat(257)}`]])("refuses %j", (filter) => {
    expect(() => parseLabelFilters("label", [filter])).toThrow("label[0]");
  });
});
