// The rule tree the builder edits: the platform's canonical language (`rules`), which
// alone can say nested groups, windows and every condition kind. Paths are the server's
// ("rules.root.rules[1].rules[0]"), so a preview's node counts and a 422's field errors
// land on the row they name.

import type { FieldError } from "../api";

export type Window =
  | { kind: "lifetime" }
  | { kind: "previous_days"; days: number }
  | { kind: "range"; start: string; end: string };

export interface PropertyRule {
  type: "property";
  field: string;
  operator: string;
  value: unknown;
}
export interface MetricRule {
  type: "metric";
  metric: string;
  operator: string;
  value: unknown;
  window?: Window | null;
}
export interface EventRule {
  type: "event";
  event: string;
  name?: string | null;
  filters: PropertyRule[];
  operator: string;
  value: unknown;
  window?: Window | null;
}
export interface RelationshipRule {
  type: "relationship";
  relation: string;
  filters: PropertyRule[];
  operator: string;
  value: unknown;
  window?: Window | null;
}
export interface SegmentRule {
  type: "segment";
  segment_id: string;
  operator: "in" | "not_in";
}
export interface GroupRule {
  type: "group";
  combinator: "and" | "or";
  negate: boolean;
  window?: Window | null;
  rules: Rule[];
}
// The behaviour conditions read one event source's rows: which (source, name, filters).
export interface EventsOf {
  event: string;
  name?: string | null;
  filters: PropertyRule[];
}
export interface SequenceStep extends EventsOf {
  within_days?: number | null;
}
export interface SequenceRule {
  type: "sequence";
  steps: SequenceStep[];
  total_within_days?: number | null;
  then_not?: (EventsOf & { within_days: number }) | null;
  window?: Window | null;
}
export interface OccurrenceRule extends EventsOf {
  type: "occurrence";
  which: "first" | "last";
  window?: Window | null;
  where: PropertyRule[];
}
export interface StoppedRule extends EventsOf {
  type: "stopped";
  at_least: number;
  base_days: number;
  recent_days: number;
}
export interface RestartedRule extends EventsOf {
  type: "restarted";
  gap_days: number;
  window?: Window | null;
}
export interface RegularlyRule extends EventsOf {
  type: "regularly";
  period: "day" | "week" | "month";
  at_least: number;
  of_last: number;
}
export type BehaviourRule = SequenceRule | OccurrenceRule | StoppedRule | RestartedRule | RegularlyRule;
export type Condition = PropertyRule | MetricRule | EventRule | RelationshipRule | SegmentRule | BehaviourRule;
export type Rule = Condition | GroupRule;

export interface RuleTree {
  object: string;
  root: GroupRule;
}

export const ROOT_PATH = "rules.root";

export function childPath(path: string, index: number): string {
  return `${path}.rules[${index}]`;
}

export function group(rules: Rule[] = [], combinator: "and" | "or" = "and"): GroupRule {
  return { type: "group", combinator, negate: false, window: null, rules };
}

/** The errors that belong to the node at `path` itself, not to its children. */
export function errorsAt(errors: FieldError[], path: string): FieldError[] {
  return errors.filter((e) => {
    if (e.path === path) return true;
    if (!e.path.startsWith(`${path}.`)) return false;
    return !e.path.slice(path.length + 1).startsWith("rules[");
  });
}

export interface Limits {
  max_groups: number;
  max_conditions_per_group: number;
  max_depth: number;
  max_sequence_steps?: number;
  max_split_buckets?: number;
}

/** Groups below the root, as the plan counts them. */
export function countGroups(node: GroupRule): number {
  let total = 0;
  for (const child of node.rules) {
    if (child.type === "group") total += 1 + countGroups(child);
  }
  return total;
}

export function conditionsIn(node: GroupRule): number {
  return node.rules.filter((r) => r.type !== "group").length;
}

/** What the plan still allows at a group of depth `depth` (the root is 1). */
export function allowance(tree: RuleTree, node: GroupRule, depth: number, limits: Limits | null) {
  if (!limits) return { condition: true, group: true, why: "" };
  const condition = conditionsIn(node) < limits.max_conditions_per_group;
  const groups = countGroups(tree.root) < limits.max_groups;
  const deeper = depth < limits.max_depth;
  let why = "";
  if (!condition) why = `Your plan allows ${limits.max_conditions_per_group} conditions per group.`;
  else if (!groups) why = `Your plan allows ${limits.max_groups} groups.`;
  else if (!deeper) why = `Your plan allows groups ${limits.max_depth} levels deep.`;
  return { condition, group: groups && deeper, why };
}
