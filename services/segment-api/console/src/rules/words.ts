// A rule tree in words, for people who read a segment without opening the editor:
// "age greater than 30 and (city is Jakarta or is in segment VIPs)". Names come from the
// palette where it has them, and embedded segments by their names where known.

import type { Palette } from "../types";
import { operatorLabel } from "./dispatch";
import type { BehaviourRule, EventsOf, GroupRule, PropertyRule, Rule, Window } from "./tree";

export interface Names {
  palette?: Palette | null;
  segments?: Record<string, string>;
}

function value(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) return v.map((x) => String(x)).join(", ");
  return String(v);
}

function windowWords(w: Window | null | undefined): string {
  if (!w || w.kind === "lifetime") return "";
  if (w.kind === "previous_days") return ` in the last ${w.days} days`;
  return ` between ${w.start} and ${w.end}`;
}

/** "more than 30", "in the last 7 days", "between 1 and 5", "is true". */
function phrase(operator: string, v: unknown): string {
  switch (operator) {
    case "is_true":
      return "is true";
    case "is_false":
      return "is false";
    case "in_last_days":
      return `in the last ${value(v)} days`;
    case "more_than_days_ago":
      return `more than ${value(v)} days ago`;
    case "between":
      return Array.isArray(v) ? `between ${value(v[0])} and ${value(v[1])}` : `between ${value(v)}`;
    default:
      return [operatorLabel(operator), value(v)].filter((s) => s !== "").join(" ");
  }
}

function clause(subject: string, operator: string, v: unknown): string {
  return `${subject} ${phrase(operator, v)}`;
}

function property(rule: PropertyRule, names: Names, fields = names.palette?.fields): string {
  const label = fields?.find((f) => f.name === rule.field)?.label ?? rule.field;
  return clause(label, rule.operator, rule.value);
}

function condition(rule: Rule, names: Names): string {
  const p = names.palette;
  switch (rule.type) {
    case "group":
      return group(rule, names, true);
    case "property":
      return property(rule, names);
    case "metric": {
      const label = p?.metrics.find((m) => m.name === rule.metric)?.label ?? rule.metric;
      return clause(label, rule.operator, rule.value) + windowWords(rule.window);
    }
    case "event": {
      const label = p?.events.find((e) => e.name === rule.event)?.label ?? rule.event;
      const what = rule.name ? `${label} "${rule.name}"` : label;
      const filters = rule.filters.length ? ` where ${rule.filters.map((f) => property(f, names, [])).join(" and ")}` : "";
      if (rule.operator === "did_not_perform") return `did not perform ${what}${filters}${windowWords(rule.window)}`;
      return `performed ${what}${filters} ${phrase(rule.operator, rule.value)} times${windowWords(rule.window)}`;
    }
    case "relationship": {
      const label = p?.relations.find((r) => r.name === rule.relation)?.label ?? rule.relation;
      const filters = rule.filters.length ? ` where ${rule.filters.map((f) => property(f, names, [])).join(" and ")}` : "";
      if (rule.operator === "did_not_perform") return `has no ${label}${filters}${windowWords(rule.window)}`;
      return `has ${phrase(rule.operator, rule.value)} ${label}${filters}${windowWords(rule.window)}`;
    }
    case "segment": {
      const name = names.segments?.[rule.segment_id] ?? rule.segment_id;
      return `${rule.operator === "not_in" ? "is not in" : "is in"} segment ${name}`;
    }
    default:
      return behaviour(rule, names);
  }
}

function events(e: EventsOf, names: Names): string {
  const label = names.palette?.events.find((x) => x.name === e.event)?.label ?? e.event;
  const filters = e.filters.length ? ` where ${e.filters.map((f) => property(f, names, [])).join(" and ")}` : "";
  return `${e.name ? `${label} "${e.name}"` : label}${filters}`;
}

function behaviour(rule: BehaviourRule, names: Names): string {
  switch (rule.type) {
    case "sequence": {
      const steps = rule.steps.map((s, i) => (i > 0 && s.within_days ? `${events(s, names)} within ${s.within_days} days` : events(s, names)));
      const total = rule.total_within_days ? `, all within ${rule.total_within_days} days` : "";
      const not = rule.then_not ? `, then not ${events(rule.then_not, names)} within ${rule.then_not.within_days} days` : "";
      return `did ${steps.join(", then ")}${total}${not}${windowWords(rule.window)}`;
    }
    case "occurrence":
      return `${rule.which === "first" ? "first" : "last"} ${events(rule, names)} was${windowWords(rule.window) || " at any time"}`;
    case "stopped":
      return `stopped ${events(rule, names)}: ${rule.at_least}+ times in the ${rule.base_days} days before the last ${rule.recent_days} days, none since`;
    case "restarted":
      return `came back to ${events(rule, names)} after ${rule.gap_days}+ days${windowWords(rule.window)}`;
    case "regularly":
      return `did ${events(rule, names)} in ${rule.at_least} of the last ${rule.of_last} ${rule.period}s`;
  }
}

function group(g: GroupRule, names: Names, nested: boolean): string {
  const parts = g.rules.map((r) => condition(r, names));
  let text = parts.join(g.combinator === "or" ? " or " : " and ");
  if (nested && parts.length > 1) text = `(${text})`;
  text += windowWords(g.window);
  return g.negate ? `not ${nested || parts.length < 2 ? text : `(${text})`}` : text;
}

/** The whole tree in one sentence; "everyone" for a segment without rules. */
export function inWords(root: GroupRule | null | undefined, names: Names = {}): string {
  if (!root || root.rules.length === 0) return "everyone";
  return group(root, names, false);
}
