// New rows for the builder, and whether a row is complete enough to preview: a row the
// person is still filling in is not sent (the server would only say it is incomplete).

import type { Palette } from "../types";
import { inputFor, type FieldType } from "./dispatch";
import type { Condition, EventsOf, PropertyRule, Rule } from "./tree";

export type ConditionKind = Condition["type"];

export const KIND_LABEL: Record<ConditionKind, string> = {
  property: "Field",
  metric: "Metric",
  event: "Event",
  relationship: "Association",
  segment: "Segment",
  sequence: "In order",
  occurrence: "First / last",
  stopped: "Stopped",
  restarted: "Came back",
  regularly: "Regularly",
};

export const BEHAVIOURS = new Set<ConditionKind>(["sequence", "occurrence", "stopped", "restarted", "regularly"]);

/** The first event source whose rows have a date (the behaviour conditions need one). */
function dated(palette: Palette): EventsOf {
  const e = palette.events.find((x) => (x.behaviours ?? []).length > 0) ?? palette.events[0];
  return { event: e?.name ?? "", name: null, filters: [] };
}

export function newProperty(palette: Palette): PropertyRule {
  const field = palette.fields[0];
  return { type: "property", field: field?.name ?? "", operator: field?.operators[0] ?? "equals", value: "" };
}

export function newCondition(kind: ConditionKind, palette: Palette, segmentId = ""): Condition {
  switch (kind) {
    case "property":
      return newProperty(palette);
    case "metric": {
      const m = palette.metrics[0];
      return { type: "metric", metric: m?.name ?? "", operator: "gte", value: 1, window: null };
    }
    case "event": {
      const e = palette.events[0];
      return { type: "event", event: e?.name ?? "", name: null, filters: [], operator: "gte", value: 1, window: null };
    }
    case "relationship": {
      const r = palette.relations[0];
      return { type: "relationship", relation: r?.name ?? "", filters: [], operator: "gte", value: 1, window: null };
    }
    case "segment":
      return { type: "segment", segment_id: segmentId, operator: "in" };
    case "sequence":
      return { type: "sequence", steps: [dated(palette), { ...dated(palette), within_days: null }], window: null };
    case "occurrence":
      return { type: "occurrence", which: "first", ...dated(palette), window: null, where: [] };
    case "stopped":
      return { type: "stopped", ...dated(palette), at_least: 1, base_days: 90, recent_days: 30 };
    case "restarted":
      return { type: "restarted", ...dated(palette), gap_days: 90, window: null };
    case "regularly":
      return { type: "regularly", ...dated(palette), period: "week", at_least: 3, of_last: 4 };
  }
}

function blank(value: unknown): boolean {
  if (value === null || value === undefined || value === "") return true;
  if (Array.isArray(value)) return value.length === 0 || value.some((v) => v === null || v === "");
  return typeof value === "number" && Number.isNaN(value);
}

function propertyComplete(rule: PropertyRule, types: Record<string, FieldType>): boolean {
  const type = types[rule.field];
  if (!type) return false;
  const kind = inputFor(type, rule.operator);
  return kind === "none" || kind === "boolean" || !blank(rule.value);
}

export type FieldTypes = Record<string, FieldType>;

/** Each field of a palette by name, with its type: what `complete` checks rows against. */
export function fieldTypesOf(palette: Palette | null | undefined): FieldTypes {
  return Object.fromEntries((palette?.fields ?? []).map((f) => [f.name, f.type]));
}

/** Is every row filled in? `types` maps the object's field names to their types;
 * `related` the same for each relation's target (an association row's filters). */
export function complete(rule: Rule, types: FieldTypes, related: Record<string, FieldTypes> = {}): boolean {
  switch (rule.type) {
    case "group":
      return rule.rules.length > 0 && rule.rules.every((r) => complete(r, types, related));
    case "property":
      return propertyComplete(rule, types);
    case "segment":
      return rule.segment_id !== "";
    case "event":
      return rule.operator === "did_not_perform" || !blank(rule.value);
    case "relationship":
      return (
        (rule.operator === "did_not_perform" || !blank(rule.value)) &&
        rule.filters.every((f) => propertyComplete(f, related[rule.relation] ?? {}))
      );
    case "metric":
      return rule.operator === "is_empty" || rule.operator === "is_not_empty" || !blank(rule.value);
    case "sequence":
      return rule.steps.length >= 2 && rule.steps.every((s) => s.event !== "") && (!rule.then_not || rule.then_not.within_days > 0);
    case "occurrence":
      return rule.event !== ""; // `where` rows are the server's to check
    case "stopped":
      return rule.event !== "" && rule.base_days > 0 && rule.recent_days > 0 && rule.at_least > 0;
    case "restarted":
      return rule.event !== "" && rule.gap_days > 0;
    case "regularly":
      return rule.event !== "" && rule.at_least > 0 && rule.of_last > 0;
  }
}
