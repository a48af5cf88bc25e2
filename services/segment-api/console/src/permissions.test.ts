import { describe, expect, it } from "vitest";
import { can, type Access } from "./permissions";

const viewer = (access: Access) => ({ user_id: "ana", permissions: { customers_segment_manage: access } });

// The RFC's role table for one key: all → any segment, owned → own only, disabled → none.
describe("can", () => {
  it.each([
    ["all", "budi", true],
    ["all", undefined, true],
    ["owned", "ana", true],
    ["owned", "budi", false],
    ["owned", undefined, true],
    ["disabled", "ana", false],
    ["disabled", undefined, false],
  ] as [Access, string | undefined, boolean][])("%s on a segment by %s: %s", (access, createdBy, expected) => {
    expect(can(viewer(access), "customers_segment_manage", createdBy)).toBe(expected);
  });

  it("treats a missing key as disabled", () => {
    expect(can({ user_id: "ana", permissions: {} }, "customers_segment_add")).toBe(false);
  });
});
