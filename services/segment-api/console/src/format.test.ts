import { describe, expect, it } from "vitest";
import { bytes } from "./format";

describe("bytes", () => {
  it.each([
    [null, "—"],
    [0, "0 B"],
    [999, "999 B"],
    [1500, "1.5 kB"],
    [12_300_000, "12 MB"],
    [10_000_000_000, "10 GB"],
  ])("%s reads as %s", (n, shown) => {
    expect(bytes(n as number | null)).toBe(shown);
  });
});
