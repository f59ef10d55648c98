// A consumer of the package, type-checked against its declarations by
// `tsc -p tests/types` (the package imports itself by name).

import axios from "axios";
import {
  BACKGROUND_HEADER,
  createClient,
  decodeJWT,
  ForeignOriginError,
  LoginError,
  memoryStorage,
  SESSION_EXPIRES_HEADER,
  type Session,
  type SessionEndEvent,
  type SlidingClient,
  type TokenStorage,
} from "@slidingjwt/client";
import { attach } from "@slidingjwt/client/axios";

const storage: TokenStorage = memoryStorage();
const api: SlidingClient = createClient({
  baseURL: "https://api.example.com",
  storage,
  guestPath: "/auth-status",
  signOutPath: "/api/logout",
  sync: false,
  locks: null,
  onSessionEnd(e: SessionEndEvent) {
    const why: "expired" | "rejected" | "login-required" | "refresh-failed" | "signed-out" = e.reason;
    void why;
  },
});

async function main(): Promise<void> {
  const res: Response = await api("/api/me");
  const poll = await api("/api/status", { background: true, headers: { Accept: "application/json" } });
  void poll;
  const me: unknown = await res.json();
  void me;
  const token: string | null = api.token;
  const expires: Date | null = api.session?.expiresAt ?? null;
  void token;
  void expires;
  const off = api.on("token", (e) => {
    const reason: "login" | "guest" | "renewed" | "set" | "resumed" = e.reason;
    void reason;
  });
  off();
  api.on("ignored", (e) => void e.reason.toUpperCase());
  const out = await api.signOut({ all: true });
  const ok: boolean = out.ok;
  void ok;
  try {
    await api("https://elsewhere.example.com/");
  } catch (err) {
    if (err instanceof ForeignOriginError) void err.origin.length;
    if (err instanceof LoginError) void err.status.toFixed();
  }
  const claims = decodeJWT(api.token);
  void claims?.sub;
  void BACKGROUND_HEADER.length;

  const http = axios.create({ baseURL: "https://api.example.com" });
  const detach: () => void = attach(http, api);
  await http.get("/api/status", { background: true });
  detach();

  // The browser's own lock manager and storages fit the options.
  createClient({ baseURL: "", locks: navigator.locks, storage: sessionStorage });
  createClient({ storage: localStorage, fetch: globalThis.fetch });

  // Cookie delivery: no token, the expiry from X-Session-Expires.
  const jar = createClient({ baseURL: "https://api.example.com", delivery: "cookie", mePath: "/api/me", guestSignInPath: "/login" });
  const resumed: Session | null = await jar.resume();
  const until: Date | null = resumed?.expiresAt ?? null;
  void until;
  jar.on("token", (e) => void e.expiresAt?.getTime());
  void SESSION_EXPIRES_HEADER.length;
  const asks: boolean = jar.asksExpiry(jar.current());
  void asks;
  // @ts-expect-error no such delivery
  createClient({ baseURL: "https://api.example.com", delivery: "both" });
  // @ts-expect-error a storage needs removeItem
  createClient({ storage: { getItem: () => null, setItem: () => {} } });
  // @ts-expect-error no such event
  api.on("renewal", () => {});
}

void main;
