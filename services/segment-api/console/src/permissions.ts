// The RFC's role table: each of the four keys is all, owned or disabled, and decides
// whether a surface or an action is offered at all. The server checks again on every
// route; this only keeps people from pressing buttons that can only say no.

export type Access = "all" | "owned" | "disabled";
export type Scope =
  | "customers_segment_view"
  | "customers_segment_add"
  | "customers_segment_manage"
  | "customers_segment_archived";

export interface Viewer {
  user_id: string;
  permissions: Partial<Record<Scope | string, Access>>;
}

export function access(viewer: Viewer | null, scope: Scope): Access {
  return (viewer?.permissions[scope] as Access | undefined) ?? "disabled";
}

/** May the viewer act with `scope`: on anything (no segment given) or on this segment. */
export function can(viewer: Viewer | null, scope: Scope, createdBy?: string | null): boolean {
  const level = access(viewer, scope);
  if (level === "all") return true;
  if (level === "disabled") return false;
  return createdBy === undefined || createdBy === viewer?.user_id;
}
