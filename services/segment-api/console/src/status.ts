// A row's build state from two sources that race: the list the API answered and the
// pushes. A push may arrive before the list that is already older than it, or after a
// list that is newer; the later `since` wins, so a row never steps back.

import type { StatusPush } from "./realtime";
import type { Segment } from "./types";

function at(iso: string | null | undefined): number {
  return iso ? Date.parse(iso) : Number.NEGATIVE_INFINITY;
}

/** Applies `push` to `row` unless the row already shows a later state; true if applied. */
export function applyStatus(row: Segment, push: StatusPush): boolean {
  if (push.segment_id !== row.id) return false;
  if (row.build && push.since && at(push.since) < at(row.build.since)) return false;
  row.build_status = push.status;
  row.last_error = push.error ?? push.reason ?? null;
  if (push.member_count !== undefined && push.member_count !== null) row.member_count = push.member_count;
  if (push.built_at) row.built_at = push.built_at;
  // Every push says whether the build still waits longer than expected: a move clears it.
  if (row.build && push.since)
    row.build = { ...row.build, since: push.since, state: push.state ?? row.build.state, waiting: push.waiting ?? null };
  return true;
}
