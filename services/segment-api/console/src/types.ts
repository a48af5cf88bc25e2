// The gateway's response shapes the console reads (field names as the API sends them).

import type { RuleTree } from "./rules/tree";

export interface BuildSummary {
  id: string;
  state: string;
  cause: string;
  since: string | null;
  reason: string | null;
  /** Why it waits longer than expected, while it waits (a dependency, or a slow job). */
  waiting?: string | null;
}

export interface Segment {
  id: string;
  name: string;
  description: string | null;
  object: string;
  rules: (RuleTree & { version?: number }) | null;
  is_custom: boolean;
  status: "active" | "archived";
  build_status: string;
  built_at: string | null;
  member_count: number | null;
  last_error: string | null;
  build: BuildSummary | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface SegmentPage {
  items: Segment[];
  page: number;
  per_page: number;
  total: number;
}

export interface FieldInfo {
  name: string;
  label: string;
  type: import("./rules/dispatch").FieldType;
  category: string;
  operators: string[];
  options: string[];
}

export interface Palette {
  object: string;
  label: string;
  fields: FieldInfo[];
  metrics: { name: string; label: string; group: string; relation: string; operators: string[] }[];
  events: { name: string; label: string; kind: string; names: string[]; operators: string[] }[];
  relations: { name: string; label: string; target: string; operators: string[] }[];
  channels: string[];
}

export interface ObjectInfo {
  name: string;
  label: string;
  family: string;
}

export interface Embeddable {
  id: string;
  name: string;
  build_status: string;
  warning: string | null;
}

export interface Preview {
  total_matched: number;
  total_customer_base: number;
  percentage: number;
  sample: Record<string, unknown>[];
  nodes: { path: string; matched: number }[] | null;
  edit_diff: {
    would_enter: number;
    would_exit: number;
    would_enter_sample?: Record<string, unknown>[];
    would_exit_sample?: Record<string, unknown>[];
  } | null;
}

export interface Reachability {
  whatsapp_pct: number;
  email_pct: number;
  [channel: string]: unknown;
}

export interface Detail {
  id: string;
  name: string;
  status: string;
  build_status: string;
  total_matched: number | null;
  total_base: number | null;
  percentage_reach: number | null;
  last_updated: string | null;
  reachability: Reachability | null;
}

export interface Member {
  object_id: string;
  name: string | null;
  source: string | null;
  last_activity: string | null;
  added_by: string | null;
  [key: string]: unknown;
}

export interface GrowthPoint {
  at: string;
  members: number;
  entered: number | null;
  exited: number | null;
  build_id?: string | null;
  anomaly?: string | null;
}

export interface Performance {
  growth: GrowthPoint[];
  distributions: Record<string, { bucket: string; members: number }[]>;
}

export interface BuildRecord {
  id: string;
  state: string;
  cause: string;
  mode: string;
  reason: string | null;
  requested_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  member_count: number | null;
  entered: number | null;
  exited: number | null;
  rules_version?: number;
  build_time?: string | null;
  anomaly?: string | null;
}

export interface MemberChange {
  change: "entered" | "exited";
  object_id: string;
  at: string;
  build_id: string;
  rules_version: number;
  full_name?: string | null;
  [key: string]: unknown;
}

export interface ChangesPage {
  items: MemberChange[];
  next_cursor: string | null;
}
