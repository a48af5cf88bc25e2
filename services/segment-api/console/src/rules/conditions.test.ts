import { describe, expect, it } from "vitest";
import type { Palette } from "../types";
import { complete, newCondition } from "./conditions";
import type { SequenceRule } from "./tree";

const palette = {
  object: "customer",
  label: "Customer",
  fields: [],
  metrics: [],
  relations: [],
  channels: [],
  periods: { day: 366, week: 104, month: 60 },
  events: [
    { name: "undated", label: "Undated", kind: "custom", names: [], operators: [], relation: "notes", fields: [], behaviours: [] },
    { name: "shop", label: "Shop", kind: "ecommerce", names: ["purchase"], operators: [], relation: "events", fields: [], behaviours: ["sequence"] },
  ],
} as unknown as Palette;

describe("behaviour conditions", () => {
  it("start on an event source whose rows have a date", () => {
    const seq = newCondition("sequence", palette) as SequenceRule;
    expect(seq.steps.map((s) => s.event)).toEqual(["shop", "shop"]);
    expect(complete(seq, {})).toBe(true);
  });

  it("are not sent while a step has no events chosen", () => {
    const seq = newCondition("sequence", palette) as SequenceRule;
    seq.steps[1]!.event = "";
    expect(complete(seq, {})).toBe(false);
  });

  it("need every number filled in", () => {
    const habit = newCondition("regularly", palette);
    expect(complete(habit, {})).toBe(true);
    expect(complete({ ...habit, of_last: 0 } as typeof habit, {})).toBe(false);
  });
});
