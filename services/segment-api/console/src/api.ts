// The gateway's HTTP contract as the console uses it: the session cookie rides along
// (same origin), a change echoes the CSRF cookie in X-CSRF-Token, and every failure
// becomes an ApiError carrying the problem details (code, detail, the fields it names).

export interface FieldError {
  path: string;
  code: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
  }

  /** What the RFC's error matrix shows for a failure of `what` ("load segments", ...). */
  toast(what: string): string {
    if (this.status === 401) return "Your session has ended. Sign in again.";
    if (this.status === 403) return "Permission denied";
    if (this.status === 429) return "Too many requests. Wait a moment and try again.";
    if (this.code === "timeout" || this.status === 504) return "Request timed out";
    if (this.code === "offline") return "No connection";
    if (this.status === 422 || this.status === 409 || this.status === 404) return this.message;
    return `Failed to ${what}. Try again.`;
  }
}

export const CSRF_COOKIE = "segp_csrf";
const TIMEOUT_MS = 30_000;
const CHANGES = new Set(["POST", "PUT", "PATCH", "DELETE"]);

let onSignedOut: () => void = () => {};
/** Called once by the app: where a 401 sends the user. */
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

export function csrfToken(cookies: string = document.cookie): string {
  for (const part of cookies.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === CSRF_COOKIE) return decodeURIComponent(rest.join("="));
  }
  return "";
}

export interface Options {
  body?: unknown;
  query?: Record<string, string | number | undefined | null>;
  signal?: AbortSignal;
  form?: Record<string, string>;
}

export function withQuery(path: string, query?: Options["query"]): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export async function request<T>(method: string, path: string, options: Options = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  let body: BodyInit | undefined;
  if (options.form) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(options.form);
  } else if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  if (CHANGES.has(method)) headers["X-CSRF-Token"] = csrfToken();
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal;
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method,
      headers,
      body,
      credentials: "same-origin",
      signal,
    });
  } catch (exc) {
    if (options.signal?.aborted) throw exc; // the caller gave up: not an error to show
    if (timeout.signal.aborted) throw new ApiError(0, "timeout", "Request timed out");
    throw new ApiError(0, "offline", "No connection");
  } finally {
    clearTimeout(timer);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    const problem = (parsed ?? {}) as { code?: string; detail?: string; title?: string; errors?: FieldError[] };
    if (response.status === 401) onSignedOut();
    throw new ApiError(
      response.status,
      problem.code ?? `http_${response.status}`,
      problem.detail || problem.title || `HTTP ${response.status}`,
      problem.errors ?? [],
    );
  }
  return parsed as T;
}

export const get = <T>(path: string, options?: Options) => request<T>("GET", path, options);
export const post = <T>(path: string, body?: unknown, options?: Options) =>
  request<T>("POST", path, { ...options, body });
export const patch = <T>(path: string, body: unknown) => request<T>("PATCH", path, { body });
export const del = (path: string) => request<void>("DELETE", path);
