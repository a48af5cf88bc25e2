import { describe, expect, it } from "vitest";
import type { Palette } from "../types";
import { group, type Rule } from "./tree";
import { inWords } from "./words";

const palette = {
  object: "customer",
  label: "Customer",
  fields: [
    { name: "age", label: "Age", type: "number", category: "profile", operators: [], options: [] },
    { name: "city", label: "City", type: "dropdown", category: "profile", operators: [], options: [] },
  ],
  metrics: [{ name: "orders_total", label: "Orders", group: "", relation: "", operators: [] }],
  events: [{ name: "web", label: "Web event", kind: "", names: [], operators: [] }],
  relations: [{ name: "deals", label: "deals", target: "deal", operators: [] }],
  channels: [],
} as unknown as Palette;

const age: Rule = { type: "property", field: "age", operator: "gt", value: 30 };
const city: Rule = { type: "property", field: "city", operator: "equals", value: "Jakarta" };

describe("a rule tree in words", () => {
  it.each([
    ["no rules", group([]), "everyone"],
    ["one condition", group([age]), "Age more than 30"],
    ["and", group([age, city]), "Age more than 30 and City is Jakarta"],
    [
      "a nested or",
      group([age, group([city, { type: "segment", segment_id: "s1", operator: "in" }], "or")]),
      "Age more than 30 and (City is Jakarta or is in segment VIPs)",
    ],
    ["an exclusion", { ...group([age, city]), negate: true }, "not (Age more than 30 and City is Jakarta)"],
    [
      "a metric in a window",
      group([{ type: "metric", metric: "orders_total", operator: "gte", value: 2, window: { kind: "previous_days", days: 30 } }]),
      "Orders at least 2 in the last 30 days",
    ],
    [
      "an event not performed",
      group([{ type: "event", event: "web", name: "signup", filters: [], operator: "did_not_perform", value: null }]),
      'did not perform Web event "signup"',
    ],
    [
      "a relative date and a boolean",
      group([
        { type: "property", field: "created_on", operator: "in_last_days", value: 7 },
        { type: "property", field: "is_vip", operator: "is_true", value: null },
      ]),
      "created_on in the last 7 days and is_vip is true",
    ],
    [
      "associations with filters",
      group([{ type: "relationship", relation: "deals", filters: [{ type: "property", field: "stage", operator: "equals", value: "won" }], operator: "gte", value: 2 }]),
      "has at least 2 deals where stage is won",
    ],
    [
      "a sequence with a gap and an absent step",
      group([
        {
          type: "sequence",
          steps: [
            { event: "web", name: "add_to_cart", filters: [] },
            { event: "web", name: "checkout", filters: [], within_days: 2 },
          ],
          then_not: { event: "web", name: "purchase", filters: [], within_days: 2 },
          window: { kind: "previous_days", days: 30 },
        },
      ]),
      'did Web event "add_to_cart", then Web event "checkout" within 2 days, then not Web event "purchase" within 2 days in the last 30 days',
    ],
    [
      "a regular habit",
      group([{ type: "regularly", event: "web", name: null, filters: [], period: "week", at_least: 3, of_last: 4 }]),
      "did Web event in 3 of the last 4 weeks",
    ],
    [
      "a first time",
      group([{ type: "occurrence", which: "first", event: "web", name: "signup", filters: [], where: [], window: null }]),
      'first Web event "signup" was at any time',
    ],
  ])("%s", (_, root, expected) => {
    expect(inWords(root, { palette, segments: { s1: "VIPs" } })).toBe(expected);
  });
});
