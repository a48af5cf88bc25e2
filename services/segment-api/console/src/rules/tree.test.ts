import { describe, expect, it } from "vitest";
import { complete } from "./conditions";
import { allowance, childPath, countGroups, errorsAt, group, ROOT_PATH, type RuleTree } from "./tree";

const age = { type: "property", field: "age", operator: "gt", value: 30 } as const;
const city = { type: "property", field: "city", operator: "equals", value: "" } as const;

describe("paths and errors", () => {
  it("names children as the server does", () => {
    expect(childPath(childPath(ROOT_PATH, 1), 0)).toBe("rules.root.rules[1].rules[0]");
  });

  it.each([
    ["rules.root.rules[1]", ["rules.root.rules[1].value", "rules.root.rules[1].window.days"]],
    ["rules.root", ["rules.root.combinator"]],
    ["rules.root.rules[1].rules[0]", ["rules.root.rules[1].rules[0]"]],
  ])("errors at %s are its own, not its children's", (path, expected) => {
    const errors = [
      "rules.root.combinator",
      "rules.root.rules[1].value",
      "rules.root.rules[1].window.days",
      "rules.root.rules[1].rules[0]",
      "rules.root.rules[10].value",
    ].map((p) => ({ path: p, code: "x", message: p }));
    expect(errorsAt(errors, path).map((e) => e.path)).toEqual(expected);
  });
});

describe("plan limits", () => {
  const limits = { max_groups: 2, max_conditions_per_group: 3, max_depth: 2 };

  it("counts groups below the root", () => {
    const tree: RuleTree = { object: "customer", root: group([age, group([age, group([age])])]) };
    expect(countGroups(tree.root)).toBe(2);
  });

  it.each([
    [[age, age], 1, { condition: true, group: true }],
    [[age, age, age], 1, { condition: false, group: true }],
    [[age, group([age]), group([age])], 1, { condition: true, group: false }],
  ] as const)("a group of %j at depth %i allows %j", (rules, depth, expected) => {
    const root = group([...rules]);
    const got = allowance({ object: "customer", root }, root, depth, limits);
    expect({ condition: got.condition, group: got.group }).toEqual(expected);
  });

  it("refuses a group deeper than the plan allows, and says why", () => {
    const inner = group([age]);
    const tree: RuleTree = { object: "customer", root: group([inner]) };
    const got = allowance(tree, inner, 2, limits);
    expect(got.group).toBe(false);
    expect(got.why).toContain("2 levels");
  });
});

describe("complete", () => {
  const types = { age: "number", city: "single_line_text", is_vip: "boolean" } as const;
  it.each([
    [group([age]), true],
    [group([age, city]), false],
    [group([]), false],
    [group([{ type: "property", field: "city", operator: "is_empty", value: "" }]), true],
    [group([{ type: "property", field: "is_vip", operator: "is_true", value: null }]), true],
    [group([{ type: "property", field: "age", operator: "between", value: [1, null] }]), false],
    [group([{ type: "segment", segment_id: "", operator: "in" }]), false],
    [group([{ type: "metric", metric: "deals_total", operator: "is_empty", value: null }]), true],
    [group([{ type: "event", event: "web", filters: [], operator: "did_not_perform", value: null }]), true],
  ] as const)("%j is complete: %s", (root, expected) => {
    expect(complete(root as never, types)).toBe(expected);
  });
});
