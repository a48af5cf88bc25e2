// Live build states: pusher-js subscribed to the caller's private channel, which the
// gateway names (GET /v1/realtime/channel) and signs (POST /v1/realtime/pusher/auth,
// with the session cookie and the CSRF token). Screens register listeners; one
// connection serves them all.

import Pusher from "pusher-js";
import { reactive } from "vue";
import { csrfToken, get } from "./api";
import type { BuildState, BuildStatus } from "./types";

export interface StatusPush {
  event: "segment.status";
  segment_id: string;
  status: BuildStatus;
  state?: BuildState | null;
  reason?: string | null;
  error?: string | null;
  member_count?: number | null;
  entered?: number | null;
  exited?: number | null;
  built_at?: string | null;
  since?: string | null;
  waiting?: string | null;
}
export interface ChangePush {
  event: "segment.changed";
  segment_id: string;
  change: string;
}
export type Push = StatusPush | ChangePush;

interface ChannelInfo {
  channel: string;
  events: string[];
  pusher: { key: string; host: string; port: number; tls: boolean } | null;
}

export const live = reactive({ state: "off" as "off" | "connecting" | "live" | "failed", error: "" });

const listeners = new Set<(push: Push) => void>();
/** Each segment's latest status push, for a screen whose data arrived after it. */
export const latest = new Map<string, StatusPush>();
let client: Pusher | null = null;

export function onPush(listener: (push: Push) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export async function connect(): Promise<void> {
  if (client) return;
  live.state = "connecting";
  try {
    const info = await get<ChannelInfo>("/v1/realtime/channel");
    if (!info.pusher) throw new Error("the gateway names no Pusher server");
    const { key, host, port, tls } = info.pusher;
    client = new Pusher(key, {
      cluster: "local",
      wsHost: host,
      wsPort: port,
      wssPort: port,
      forceTLS: tls,
      enabledTransports: tls ? ["wss"] : ["ws"],
      disableStats: true,
      channelAuthorization: {
        // pusher-js's own request would send no CSRF token, so customHandler does the asking;
        // transport and endpoint are what its type requires, and say the same route.
        transport: "ajax",
        endpoint: "/v1/realtime/pusher/auth",
        customHandler: async ({ socketId, channelName }, callback) => {
          try {
            const signed = await fetch("/v1/realtime/pusher/auth", {
              method: "POST",
              credentials: "same-origin",
              headers: {
                "X-CSRF-Token": csrfToken(),
                "Content-Type": "application/x-www-form-urlencoded",
              },
              body: new URLSearchParams({ socket_id: socketId, channel_name: channelName }),
            });
            if (!signed.ok) throw new Error(`channel authorization: HTTP ${signed.status}`);
            callback(null, await signed.json());
          } catch (exc) {
            callback(exc as Error, null);
          }
        },
      },
    });
    const channel = client.subscribe(info.channel);
    for (const event of info.events) {
      channel.bind(event, (data: Push) => {
        const push = { ...data, event } as Push;
        if (push.event === "segment.status") latest.set(push.segment_id, push);
        for (const listener of listeners) listener(push);
      });
    }
    channel.bind("pusher:subscription_succeeded", () => {
      live.state = "live";
      live.error = "";
    });
    channel.bind("pusher:subscription_error", (status: unknown) => {
      live.state = "failed";
      live.error = `live updates refused (${JSON.stringify(status)})`;
    });
    client.connection.bind("unavailable", () => {
      live.state = "failed";
      live.error = "live updates unavailable; reconnecting";
    });
    client.connection.bind("connected", () => {
      if (live.state === "failed") live.state = "live";
    });
  } catch (exc) {
    client = null;
    live.state = "failed";
    live.error = exc instanceof Error ? exc.message : String(exc);
  }
}

export function disconnect(): void {
  client?.disconnect();
  client = null;
  live.state = "off";
}
