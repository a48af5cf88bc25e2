// The condition row's dispatch, one case per field type of the RFC's table (and the
// operators that change the input within a type). Data in, input kind out.
import { describe, expect, it } from "vitest";
import { blankValue, inputFor, operatorChoices, type FieldType, type InputKind } from "./dispatch";

const CASES: [FieldType | "count", string, InputKind][] = [
  ["single_line_text", "equals", "text"],
  ["single_line_text", "in_list", "text_list"],
  ["single_line_text", "is_empty", "none"],
  ["text_area", "contains", "textarea"],
  ["url", "starts_with", "url"],
  ["dropdown_select", "equals", "dropdown"],
  ["dropdown_select", "not_in_list", "multiselect"],
  ["multiple_select", "contains_all", "multiselect"],
  ["multiple_select", "is_not_empty", "none"],
  ["number", "gt", "number"],
  ["number", "between", "number_range"],
  ["number", "in_list", "number_list"],
  ["date", "before", "date"],
  ["date", "between", "date_range"],
  ["date", "in_last_days", "days"],
  ["date", "more_than_days_ago", "days"],
  ["boolean", "is_true", "boolean"],
  ["boolean", "is_false", "boolean"],
  ["boolean", "is_empty", "none"],
  ["upload", "is_empty", "none"],
  ["signature", "is_not_empty", "none"],
  ["gps", "is_empty", "none"],
  ["count", "gte", "number"],
  ["count", "between", "number_range"],
  ["count", "did_not_perform", "none"],
];

describe("inputFor", () => {
  it.each(CASES)("%s with %s renders %s", (type, operator, kind) => {
    expect(inputFor(type, operator)).toBe(kind);
  });

  it("covers every field type of the RFC's table", () => {
    const types = new Set(CASES.map(([t]) => t));
    for (const t of ["single_line_text", "text_area", "url", "dropdown_select", "multiple_select", "number", "date", "boolean", "upload", "signature", "gps"]) {
      expect(types.has(t as FieldType)).toBe(true);
    }
  });
});

describe("blankValue", () => {
  it.each([
    ["text", ""],
    ["multiselect", []],
    ["number_list", []],
    ["number_range", [null, null]],
    ["date_range", [null, null]],
    ["none", null],
    ["boolean", null],
  ] as [InputKind, unknown][])("%s starts as %j", (kind, value) => {
    expect(blankValue(kind)).toEqual(value);
  });
});

describe("operatorChoices", () => {
  it("shows a boolean field's is_true / is_false as one 'is' with a true/false value", () => {
    const choices = operatorChoices("boolean", ["is_true", "is_false", "is_empty", "is_not_empty"]);
    expect(choices.map((c) => c.value)).toEqual(["is_true", "is_empty", "is_not_empty"]);
    expect(choices[0].label).toBe("is");
  });

  it("keeps every operator of other types, labelled", () => {
    const choices = operatorChoices("number", ["gt", "between"]);
    expect(choices).toEqual([
      { value: "gt", label: "more than" },
      { value: "between", label: "between" },
    ]);
  });
});
