// Toasts: the RFC's error matrix shows most failures as a toast with a short message.

import { reactive } from "vue";
import { ApiError } from "./api";

export interface Toast {
  id: number;
  text: string;
  kind: "error" | "info";
}

export const toasts = reactive<Toast[]>([]);
let next = 1;

export function toast(text: string, kind: Toast["kind"] = "info"): void {
  const id = next++;
  toasts.push({ id, text, kind });
  setTimeout(() => {
    const at = toasts.findIndex((t) => t.id === id);
    if (at >= 0) toasts.splice(at, 1);
  }, 6000);
}

/** Shows a failure of `what` the way the RFC's matrix says, and returns its message. */
export function failed(what: string, exc: unknown): string {
  const text = exc instanceof ApiError ? exc.toast(what) : `Failed to ${what}. Try again.`;
  toast(text, "error");
  return text;
}
