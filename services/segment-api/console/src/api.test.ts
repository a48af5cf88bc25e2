import { describe, expect, it } from "vitest";
import { ApiError, csrfToken, withQuery } from "./api";

describe("csrfToken", () => {
  it.each([
    ["segp_csrf=abc; other=1", "abc"],
    ["other=1; segp_csrf=a%3Db", "a=b"],
    ["other=1", ""],
  ])("reads it from %j", (cookies, expected) => {
    expect(csrfToken(cookies)).toBe(expected);
  });
});

describe("withQuery", () => {
  it("leaves out empty values", () => {
    expect(withQuery("/v1/segments", { page: 2, search: "", status: undefined, sort: null })).toBe("/v1/segments?page=2");
  });
});

describe("ApiError.toast", () => {
  it.each([
    [401, "unauthorized", "Your session has ended. Sign in again."],
    [403, "forbidden", "Permission denied"],
    [429, "rate_limited", "Too many requests. Wait a moment and try again."],
    [504, "preview_timeout", "Request timed out"],
    [0, "offline", "No connection"],
    [502, "warehouse_error", "Failed to load segments. Try again."],
    [422, "name_taken", "the server's words"],
  ])("%i %s reads %j", (status, code, expected) => {
    expect(new ApiError(status, code, "the server's words").toast("load segments")).toBe(expected);
  });
});
