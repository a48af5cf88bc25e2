// The gateway's response shapes the console reads, generated from the API's OpenAPI
// document (services/segment-api/openapi.json): `npm run api-types` writes
// api-schema.d.ts, and `npm run typecheck` (in CI) fails when it has drifted from the
// document. Only what the document cannot say (the rule tree's shape, a field type's
// union, the members' open columns) is narrowed here.

import type { components } from "./api-schema";
import type { FieldType } from "./rules/dispatch";
import type { RuleTree } from "./rules/tree";

type Schemas = components["schemas"];

export type BuildSummary = Schemas["BuildOut"];
export type BuildState = Schemas["BuildState"];
export type BuildStatus = Schemas["BuildStatus"];

export type Segment = Omit<Schemas["SegmentOut"], "rules"> & {
  rules: (RuleTree & { version?: number }) | null;
};

export type SegmentPage = Omit<Schemas["SegmentPage"], "items"> & { items: Segment[] };

export type FieldInfo = Omit<Schemas["FieldOut"], "type"> & { type: FieldType };

export type Palette = Omit<Schemas["PaletteOut"], "fields"> & { fields: FieldInfo[] };

export type ObjectInfo = Schemas["ObjectOut"];

export type Embeddable = Schemas["EmbeddableOut"];

export type Preview = Schemas["PreviewOut"];

export type Reachability = Schemas["Reachability"];

export type Detail = Schemas["DetailOut"];

export type Buckets = Schemas["BucketsOut"];

export type Explanation = Schemas["ExplainOut"];

export type Overlap = Schemas["OverlapOut"];

// A member row: its object's columns, whatever the object (the document says "object").
export interface Member {
  object_id: string;
  name: string | null;
  source: string | null;
  last_activity: string | null;
  added_by: string | null;
  [key: string]: unknown;
}

export type GrowthPoint = Schemas["GrowthPoint"];

export type Performance = Schemas["PerformanceOut"];

export type BuildRecord = Schemas["BuildRecordOut"];

export type MemberChange = Schemas["MemberChange"];

export type ChangesPage = Schemas["ChangesPage"];
