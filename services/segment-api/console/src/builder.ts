// What every row of the builder needs, provided once by the builder view: the object's
// palette (and its relations' targets', for association filters), the segments one may
// embed, the preview's count per node, the server's errors per path, and field values.

import { inject, provide, reactive, type InjectionKey } from "vue";
import { get } from "./api";
import type { FieldError } from "./api";
import type { Limits } from "./rules/tree";
import type { Embeddable, Palette } from "./types";

export interface Builder {
  palette: Palette | null;
  related: Record<string, Palette>;
  embeddable: Embeddable[];
  counts: Record<string, number>;
  errors: FieldError[];
  limits: Limits | null;
}

const KEY: InjectionKey<Builder> = Symbol("builder");

export function provideBuilder(limits: Limits | null): Builder {
  const builder = reactive<Builder>({
    palette: null,
    related: {},
    embeddable: [],
    counts: {},
    errors: [],
    limits,
  });
  provide(KEY, builder);
  return builder;
}

export function useBuilder(): Builder {
  const builder = inject(KEY);
  if (!builder) throw new Error("a rule row outside the builder");
  return builder;
}

const palettes = new Map<string, Promise<Palette>>();
export function loadPalette(object: string): Promise<Palette> {
  let found = palettes.get(object);
  if (!found) {
    found = get<Palette>(`/v1/objects/${encodeURIComponent(object)}/fields`);
    found.catch(() => palettes.delete(object)); // a failure is retried next time
    palettes.set(object, found);
  }
  return found;
}

/** A relation's target palette, loaded once into `builder.related`. */
export async function loadRelated(builder: Builder, relation: string): Promise<void> {
  const target = builder.palette?.relations.find((r) => r.name === relation)?.target;
  if (!target || builder.related[relation]) return;
  builder.related[relation] = await loadPalette(target);
}

interface FieldValues {
  popular: { value: string; count: number }[];
  sample: string[];
}
const values = new Map<string, Promise<string[]>>();
/** Values seen in the warehouse for a field: offered as suggestions, never required. */
export function fieldValues(object: string, field: string): Promise<string[]> {
  const key = `${object}.${field}`;
  let found = values.get(key);
  if (!found) {
    found = get<FieldValues>(
      `/v1/objects/${encodeURIComponent(object)}/fields/${encodeURIComponent(field)}/values`,
    ).then((v) => [...new Set([...v.popular.map((p) => String(p.value)), ...v.sample.map(String)])]);
    found.catch(() => values.delete(key));
    values.set(key, found);
  }
  return found;
}
