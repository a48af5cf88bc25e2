import { describe, expect, it } from "vitest";
import type { StatusPush } from "./realtime";
import { applyStatus } from "./status";
import type { Segment } from "./types";

const row = (status: string, since: string | null): Segment =>
  ({
    id: "s1",
    build_status: status,
    member_count: null,
    last_error: null,
    built_at: null,
    build: since ? { id: "b", state: status, cause: "create", since, reason: null } : null,
  }) as unknown as Segment;
const push = (status: StatusPush["status"], since: string, extra: Partial<StatusPush> = {}): StatusPush => ({
  event: "segment.status",
  segment_id: "s1",
  status,
  since,
  ...extra,
});

describe("applyStatus", () => {
  it.each([
    ["a later push moves the row on", row("pending", "2026-01-01T00:00:01Z"), push("in_progress", "2026-01-01T00:00:02Z"), "in_progress"],
    ["an older push never steps it back", row("done", "2026-01-01T00:00:05Z"), push("in_progress", "2026-01-01T00:00:02Z"), "done"],
    ["a row without a build takes any push", row("pending", null), push("done", "2026-01-01T00:00:02Z"), "done"],
  ])("%s", (_, r, p, expected) => {
    applyStatus(r, p);
    expect(r.build_status).toBe(expected);
  });

  it("carries the failure's reason and the new size", () => {
    const r = row("in_progress", "2026-01-01T00:00:01Z");
    applyStatus(r, push("failed", "2026-01-01T00:00:03Z", { error: "quota exceeded", member_count: null }));
    expect([r.build_status, r.last_error]).toEqual(["failed", "quota exceeded"]);
    applyStatus(r, push("done", "2026-01-01T00:00:04Z", { member_count: 12 }));
    expect([r.build_status, r.last_error, r.member_count]).toEqual(["done", null, 12]);
  });

  it("shows why a build waits while it waits, and a later move clears it", () => {
    const r = row("in_progress", "2026-01-01T00:00:01Z");
    applyStatus(r, push("in_progress", "2026-01-01T00:00:01Z", { state: "requested", waiting: "waiting for 'Base'" }));
    expect(r.build?.waiting).toBe("waiting for 'Base'");
    applyStatus(r, push("in_progress", "2026-01-01T00:00:09Z", { state: "submitted" }));
    expect([r.build?.state, r.build?.waiting]).toEqual(["submitted", null]);
  });

  it("ignores another segment's push", () => {
    const r = row("pending", null);
    expect(applyStatus(r, { ...push("done", "2026-01-01T00:00:02Z"), segment_id: "s2" })).toBe(false);
    expect(r.build_status).toBe("pending");
  });
});
