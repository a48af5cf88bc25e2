// Who is signed in: the account, its plan limits and the caller's permission keys, read
// from GET /v1/account with the session cookie. Signing in trades a token for that
// cookie (POST /v1/session); the token itself is never kept by the page.

import { reactive } from "vue";
import { ApiError, del, get, post } from "./api";
import type { Access, Viewer } from "./permissions";

export interface Account extends Viewer {
  id: string;
  plan: string;
  limits: { max_groups: number; max_conditions_per_group: number; max_depth: number; max_segments: number };
  active_segments: number;
  permissions: Record<string, Access>;
}

export const session = reactive({
  account: null as Account | null,
  checked: false,
  forbidden: false,
});

/** Reads the account with the cookie; a 401 leaves `account` empty (sign in). */
export async function loadAccount(): Promise<Account | null> {
  try {
    session.account = await get<Account>("/v1/account");
    session.forbidden = false;
  } catch (exc) {
    session.account = null;
    if (!(exc instanceof ApiError)) throw exc;
    if (exc.status === 403) session.forbidden = true;
    else if (exc.status !== 401) throw exc;
  } finally {
    session.checked = true;
  }
  return session.account;
}

export async function signIn(token: string): Promise<Account | null> {
  await post("/v1/session", { token: token.trim() });
  return loadAccount();
}

export async function signOut(): Promise<void> {
  try {
    await del("/v1/session");
  } finally {
    session.account = null;
  }
}
