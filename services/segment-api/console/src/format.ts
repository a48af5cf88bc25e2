// How numbers, dates and statuses read on screen.

export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? "—" : n.toLocaleString("en-US");
}

export function percent(n: number | null | undefined): string {
  return n === null || n === undefined ? "—" : `${n.toFixed(n < 10 ? 2 : 1)}%`;
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const at = new Date(iso);
  return at.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The list's words for a segment's build status (the platform's BuildStatus). */
export const STATUS_LABEL: Record<string, string> = {
  pending: "requested",
  in_progress: "building",
  done: "done",
  failed: "failed",
  canceled: "canceled",
  skipped: "skipped",
};

/** 1.2 GB, 340 MB, 12 kB: bytes as a person reads them (decimal units, as BigQuery bills). */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
