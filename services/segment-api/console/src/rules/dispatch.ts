// The condition row's dispatch (the RFC's FilterCriteriaRow table): which value input a
// field type and operator call for. Operators themselves come from the server's palette,
// per field; this decides only how a value is entered.

export type FieldType =
  | "single_line_text"
  | "text_area"
  | "url"
  | "dropdown_select"
  | "multiple_select"
  | "number"
  | "date"
  | "boolean"
  | "upload"
  | "signature"
  | "gps";

export type InputKind =
  | "none" // is_empty and friends, and the condition-only types
  | "text"
  | "textarea"
  | "url"
  | "dropdown"
  | "multiselect" // choose several of the field's options
  | "text_list" // type several values
  | "number"
  | "number_list"
  | "number_range"
  | "date"
  | "date_range"
  | "days" // in_last_days, more_than_days_ago: a count of days
  | "boolean"; // true / false, carried by the operator (is_true / is_false)

const NO_VALUE = new Set(["is_empty", "is_not_empty", "did_not_perform"]);
const LISTS = new Set(["in_list", "not_in_list", "contains_any", "contains_all", "contains_none"]);
const DAY_COUNTS = new Set(["in_last_days", "more_than_days_ago"]);
const CONDITION_ONLY = new Set<FieldType>(["upload", "signature", "gps"]);

export function inputFor(fieldType: FieldType | "count", operator: string): InputKind {
  if (NO_VALUE.has(operator)) return "none";
  if (fieldType === "boolean") return "boolean";
  if (CONDITION_ONLY.has(fieldType as FieldType)) return "none";
  if (DAY_COUNTS.has(operator)) return "days";
  if (fieldType === "number" || fieldType === "count") {
    if (operator === "between") return "number_range";
    return LISTS.has(operator) ? "number_list" : "number";
  }
  if (fieldType === "date") return operator === "between" ? "date_range" : "date";
  if (fieldType === "dropdown_select" || fieldType === "multiple_select") {
    return LISTS.has(operator) || fieldType === "multiple_select" ? "multiselect" : "dropdown";
  }
  if (LISTS.has(operator)) return "text_list";
  if (fieldType === "text_area") return "textarea";
  if (fieldType === "url") return "url";
  return "text";
}

/** The value a row starts with when its input kind changes: empty, in the right shape. */
export function blankValue(kind: InputKind): unknown {
  switch (kind) {
    case "none":
    case "boolean":
      return null;
    case "multiselect":
    case "text_list":
    case "number_list":
      return [];
    case "number_range":
    case "date_range":
      return [null, null];
    default:
      return "";
  }
}

/** Boolean rows show "is" with a true/false choice; the language says is_true / is_false. */
export interface OperatorChoice {
  value: string;
  label: string;
}

const LABELS: Record<string, string> = {
  equals: "is",
  not_equals: "is not",
  contains: "contains",
  not_contains: "does not contain",
  starts_with: "starts with",
  ends_with: "ends with",
  in_list: "is any of",
  not_in_list: "is none of",
  is_empty: "is empty",
  is_not_empty: "is not empty",
  gt: "more than",
  gte: "at least",
  lt: "less than",
  lte: "at most",
  between: "between",
  before: "before",
  after: "after",
  on: "on",
  in_last_days: "in the last … days",
  more_than_days_ago: "more than … days ago",
  is_true: "is",
  is_false: "is",
  contains_any: "has any of",
  contains_all: "has all of",
  contains_none: "has none of",
  did_not_perform: "never",
};

export function operatorLabel(operator: string): string {
  return LABELS[operator] ?? operator.replaceAll("_", " ");
}

export function operatorChoices(fieldType: FieldType | "count", operators: string[]): OperatorChoice[] {
  const choices: OperatorChoice[] = [];
  for (const op of operators) {
    if (fieldType === "boolean" && op === "is_false") continue; // one "is", value true/false
    choices.push({ value: op, label: operatorLabel(op) });
  }
  return choices;
}

/** The operator a boolean row's "is" stands for, given the chosen value. */
export function booleanOperator(value: boolean): "is_true" | "is_false" {
  return value ? "is_true" : "is_false";
}
