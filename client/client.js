// @slidingjwt/client: the client half of sliding-session JWT renewal.
//
// A slidingjwt server answers a request whose token is past its renewal
// threshold with a fresh token in the X-New-Token response header. This
// module keeps the token, sends it to the API (and nowhere else), takes
// the renewals that belong to its session, re-authenticates guests after a
// 401, reports the end of a session, and keeps the tabs of one origin in
// step.
//
// Plain ES module, no dependencies and no Node-only imports: it runs as it
// is in a browser (served as a static file) and in Node 20 or later.
//
//   import { createClient } from "@slidingjwt/client";
//   const api = createClient({ baseURL: "https://api.example.com" });
//   const res = await api("/api/me");            // same signature as fetch
//   const poll = await api("/api/status", { background: true });

/** The response header that carries a renewed token (the raw JWT). */
export const NEW_TOKEN_HEADER = "X-New-Token";

/**
 * The request header that marks a background request: the server
 * authenticates it as usual but never renews its token.
 */
export const BACKGROUND_HEADER = "X-Slidingjwt-Background";

/** The storage key of the token unless options.storageKey says otherwise. */
export const DEFAULT_STORAGE_KEY = "slidingjwt.token";

const PROTOCOL_VERSION = 1;

// ---------------------------------------------------------------------------
// Tokens

/**
 * decodeBase64Url turns base64url text (padding optional) into bytes. It
 * throws a TypeError on anything else.
 */
export function decodeBase64Url(text) {
  let s = String(text).replace(/=+$/, "");
  if (/[^A-Za-z0-9_-]/.test(s) || s.length % 4 === 1) throw new TypeError("not base64url text");
  s = s.replace(/-/g, "+").replace(/_/g, "/");
  s += "=".repeat((4 - (s.length % 4)) % 4);
  const raw = atob(s);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

/**
 * decodeJWT returns the claims (payload) of a JWT, or null when token is not
 * three dot-separated parts whose middle one is a base64url JSON object. It
 * does not check the signature: only the server can, and the client reads
 * the claims only to recognise its session and show its expiry.
 */
export function decodeJWT(token) {
  if (typeof token !== "string") return null;
  const parts = token.split(".");
  if (parts.length !== 3 || parts[1] === "") return null;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(decodeBase64Url(parts[1]));
    const claims = JSON.parse(text);
    if (claims === null || typeof claims !== "object" || Array.isArray(claims)) return null;
    return claims;
  } catch {
    return null;
  }
}

/**
 * isGuestClaims reports whether claims are those of a guest session: role
 * "guest", or LightRAG's marker metadata.auth_mode "disabled".
 */
export function isGuestClaims(claims) {
  if (!claims) return false;
  return claims.role === "guest" || claims.metadata?.auth_mode === "disabled";
}

/**
 * sameSession reports whether two sets of claims belong to one session: the
 * same sub, and the same sid when both have one (every guest of a server
 * may share one sub; the sid tells their sessions apart).
 */
export function sameSession(a, b) {
  if (!a || !b) return false;
  if (typeof a.sub !== "string" || a.sub !== b.sub) return false;
  if (a.sid != null && b.sid != null && a.sid !== b.sid) return false;
  return true;
}

/**
 * renewalVerdict says whether next may replace current as its renewal:
 * "ok", or why not: "no-session" (nothing is stored), "malformed" (next is
 * not a JWT), "other-session" or "not-later" (next does not expire after
 * current).
 */
export function renewalVerdict(current, next) {
  const cur = decodeJWT(current);
  const nxt = decodeJWT(next);
  if (!current || !cur) return "no-session";
  if (!nxt) return "malformed";
  if (!sameSession(cur, nxt)) return "other-session";
  if (typeof nxt.exp !== "number") return "not-later";
  if (typeof cur.exp === "number" && !(nxt.exp > cur.exp)) return "not-later";
  return "ok";
}

// ---------------------------------------------------------------------------
// Errors

/**
 * ForeignOriginError is thrown (a request rejects with it) when a request's
 * URL resolves to another origin than the API's. Nothing was sent.
 */
export class ForeignOriginError extends Error {
  constructor(input, url, origin) {
    super(`${JSON.stringify(String(input))} resolves to ${url}, outside the API origin ${origin}: ` +
      "this client sends requests to its API only (use the plain fetch for other hosts)");
    this.name = "ForeignOriginError";
    this.code = "SLIDINGJWT_FOREIGN_ORIGIN";
    this.url = url;
    this.origin = origin;
  }
}

/** LoginError is what login() rejects with when the server refuses it. */
export class LoginError extends Error {
  constructor(status, message) {
    super(message || `login failed with status ${status}`);
    this.name = "LoginError";
    this.code = "SLIDINGJWT_LOGIN_FAILED";
    this.status = status;
  }
}

// ---------------------------------------------------------------------------
// Storage

/**
 * memoryStorage returns a storage that keeps values in this process only,
 * with the getItem/setItem/removeItem methods of the Web Storage API.
 */
export function memoryStorage() {
  const values = new Map();
  return {
    getItem: (key) => (values.has(key) ? values.get(key) : null),
    setItem: (key, value) => void values.set(key, String(value)),
    removeItem: (key) => void values.delete(key),
  };
}

// browserStorage returns window.localStorage when there is one that works
// (a browser can refuse access to it), or null.
function browserStorage() {
  try {
    const ls = globalThis.localStorage;
    if (ls && typeof ls.getItem === "function") {
      ls.getItem(DEFAULT_STORAGE_KEY);
      return ls;
    }
  } catch {
    // storage disabled by the browser: fall back to memory
  }
  return null;
}

function checkStorage(s) {
  for (const m of ["getItem", "setItem", "removeItem"]) {
    if (typeof s?.[m] !== "function") {
      throw new TypeError(`options.storage needs a ${m} method (the Web Storage API: localStorage, sessionStorage, or your own)`);
    }
  }
  return s;
}

// ---------------------------------------------------------------------------
// URLs

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;

function pageHref() {
  const href = globalThis.location?.href;
  return typeof href === "string" && href !== "" ? href : undefined;
}

// ---------------------------------------------------------------------------
// The client

const EVENT_TYPES = ["token", "ignored", "sessionend"];

const DELIVERIES = ["header", "cookie"];

/**
 * createClient returns a function with the signature of fetch that sends
 * requests to one API with its token, plus the methods and getters of a
 * session (see client.d.ts for every option).
 */
export function createClient(options = {}) {
  if (options === null || typeof options !== "object") throw new TypeError("createClient takes an options object");
  const delivery = options.delivery ?? "header";
  if (!DELIVERIES.includes(delivery)) {
    throw new TypeError(`options.delivery must be "header" (the only mode of this version; "cookie" comes later); got ${JSON.stringify(delivery)}`);
  }
  if (delivery === "cookie") {
    throw new TypeError('options.delivery "cookie" is not supported yet: this version keeps the token itself and sends it in the Authorization header ("header")');
  }

  // --- where requests go
  const baseURL = String(options.baseURL ?? "").replace(/\/+$/, "");
  let apiOrigin;
  try {
    apiOrigin = new URL(baseURL || pageHref(), pageHref()).origin;
  } catch {
    throw new TypeError(`options.baseURL ${JSON.stringify(baseURL)} is not a URL (outside a browser page, give an absolute one such as "https://api.example.com")`);
  }
  if (apiOrigin === "null") throw new TypeError(`options.baseURL ${JSON.stringify(baseURL)} has no origin (use http or https)`);

  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== "function") throw new TypeError("no fetch: pass options.fetch");
  const send = (req) => fetchImpl.call(globalThis, req);

  const routes = {
    guest: options.guestPath === undefined ? "/auth-status" : options.guestPath,
    login: options.loginPath ?? "/login",
    signOut: options.signOutPath ?? "/api/logout",
    signOutAll: options.signOutAllPath ?? "/api/logout-all",
  };
  const backgroundHeader = options.backgroundHeader ?? BACKGROUND_HEADER;

  // --- where the token lives
  const storageKey = options.storageKey ?? DEFAULT_STORAGE_KEY;
  const local = browserStorage();
  let storage;
  if (options.storage === undefined) storage = local ?? memoryStorage();
  else if (options.storage === "memory") storage = memoryStorage();
  else storage = checkStorage(options.storage);
  const sharedWithTabs = local !== null && storage === local;

  // --- listeners
  const listeners = new Map(EVENT_TYPES.map((t) => [t, new Set()]));
  const callbacks = { token: options.onToken, ignored: options.onIgnored, sessionend: options.onSessionEnd };
  function emit(type, detail) {
    const fns = [callbacks[type], ...listeners.get(type)];
    for (const fn of fns) {
      if (typeof fn !== "function") continue;
      try {
        fn(detail);
      } catch (err) {
        // A listener's fault must not break the request that reported it.
        if (typeof globalThis.reportError === "function") globalThis.reportError(err);
        else console.error(err);
      }
    }
  }

  // guestHint: true when this server is known to hand out guest sessions,
  // false when it is known not to, undefined before anything says.
  let guestHint = typeof options.guest === "boolean" ? options.guest : undefined;

  function readToken() {
    const t = storage.getItem(storageKey);
    return typeof t === "string" && t !== "" ? t : null;
  }

  function isGuestToken(token) {
    return token ? isGuestClaims(decodeJWT(token)) : false;
  }

  // store saves token and says so, here and (unless it came from there)
  // to the other tabs.
  function store(token, reason, fromOtherTab = false) {
    storage.setItem(storageKey, token);
    const claims = decodeJWT(token);
    if (isGuestClaims(claims)) guestHint = true;
    if (!fromOtherTab) tabs.post({ kind: "token", token, reason });
    emit("token", { token, claims, reason, fromOtherTab });
  }

  // endSession forgets token when it is still the stored one, and reports
  // the end of the session, to the other tabs too. A null token (a request
  // sent without one) is only reported.
  function endSession(token, reason, { background = false, status } = {}) {
    if (token !== null) {
      if (readToken() !== token) return;
      storage.removeItem(storageKey);
      tabs.post({ kind: "end", token, reason });
    }
    emit("sessionend", { reason, background, fromOtherTab: false, token, claims: decodeJWT(token), status });
  }

  // whyRefused says why the server refused token: it was past its expiry
  // by this machine's clock, or it was refused before (signed out, or not
  // valid on this server).
  function whyRefused(token) {
    const exp = decodeJWT(token)?.exp;
    return typeof exp === "number" && exp * 1000 <= Date.now() ? "expired" : "rejected";
  }

  // --- URLs

  /**
   * resolve returns the absolute URL of input on the API, or throws
   * ForeignOriginError. A path is appended to baseURL (its path prefix
   * kept); an absolute URL, a URL object or a Request is taken as it is.
   * The verdict is on the URL as the platform parses it: with baseURL ""
   * in a page, text such as "//host/x" or "/\\host", which a browser reads
   * as another host, is refused; appended to an absolute baseURL it stays
   * a path on the API.
   */
  function resolve(input) {
    let text;
    if (typeof Request === "function" && input instanceof Request) text = input.url;
    else if (input instanceof URL) text = input.href;
    else if (typeof input === "string") text = input;
    else throw new TypeError("a request takes a string, a URL or a Request");
    const joined = SCHEME.test(text) ? text : baseURL + (text.startsWith("/") || text === "" ? text : "/" + text);
    let target;
    try {
      target = new URL(joined, pageHref() ?? apiOrigin);
    } catch {
      throw new TypeError(`${JSON.stringify(text)} is not a URL`);
    }
    if (target.origin !== apiOrigin) throw new ForeignOriginError(text, target.href, apiOrigin);
    return target.href;
  }

  // --- renewals

  /**
   * offerToken stores token, a renewal a response carried, when it belongs
   * to the stored session and expires later; it reports whether it did.
   * A renewal that came with a background response is never stored.
   */
  function offerToken(token, { background = false } = {}) {
    if (typeof token !== "string" || token === "") return false;
    const current = readToken();
    if (token === current) return false;
    const why = background ? "background" : renewalVerdict(current, token);
    if (why !== "ok") {
      emit("ignored", { token, claims: decodeJWT(token), reason: why });
      return false;
    }
    store(token, "renewed");
    return true;
  }

  // observe offers the renewal a response carries (only a response below
  // 400 can carry one that counts).
  function observe(res, background) {
    if (res.status >= 200 && res.status < 400) {
      const renewed = res.headers.get(NEW_TOKEN_HEADER);
      if (renewed) offerToken(renewed, { background });
    }
  }

  // --- guest sessions

  let guestInFlight = null;

  // fetchGuestToken asks the guest route for a new guest session and
  // stores it; it returns the token, or null when the server has no guest
  // sessions (logins are configured).
  async function fetchGuestToken() {
    if (routes.guest === null) return null;
    const req = new Request(resolve(routes.guest), {
      method: "GET",
      headers: { Accept: "application/json" },
      cache: "no-store",
    });
    const res = await send(req);
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      const err = new Error(`${routes.guest} answered ${res.status}`);
      err.status = res.status;
      throw err;
    }
    const body = await res.json();
    const token = body?.access_token;
    if (typeof token !== "string" || token === "" || body.auth_configured === true) {
      guestHint = false;
      return null;
    }
    store(token, "guest");
    return token;
  }

  /**
   * guestSession starts a new guest session unless one is already being
   * started, in this tab (the calls share one request) or in another tab
   * (one tab at a time holds the lock; the others take the token it
   * stored). failed is the token the caller found refused, if any: a token
   * other than it already stored is used instead of asking again. It
   * resolves to the guest token, or null when only a login can help.
   */
  function guestSession(failed = null) {
    if (guestInFlight) return guestInFlight;
    const replaced = () => {
      const now = readToken();
      return now !== null && now !== failed;
    };
    guestInFlight = lock
      .run(async () => {
        if (replaced()) {
          // Another request or tab stored a session while this one
          // waited: a guest session is used as it is; a login is left
          // alone.
          const now = readToken();
          return isGuestToken(now) ? now : null;
        }
        return fetchGuestToken();
      }, replaced)
      .finally(() => {
        guestInFlight = null;
      });
    return guestInFlight;
  }

  // --- 401

  /**
   * handleUnauthorized decides what follows a 401 for a request sent with
   * sent (null: sent without a token). It resolves to the token to send the
   * request again with, once, or null when the 401 stands; when the
   * session is over it has forgotten the token and reported it.
   * retried: this 401 answered the second attempt, which never gets a
   * third.
   */
  async function handleUnauthorized(sent, { background = false, retried = false } = {}) {
    const current = readToken();
    if (current !== sent) {
      // Another request changed the stored token while this one was out.
      if (current === null) return null; // the session ended or was signed out meanwhile
      if (retried) return null;
      if (sent !== null && sameSession(decodeJWT(sent), decodeJWT(current))) return current; // renewed meanwhile
      if ((sent === null || isGuestToken(sent)) && isGuestToken(current)) return current; // a guest session replaced it
      return null; // another login is stored: this request was meant for the one before
    }
    if (retried) {
      if (sent !== null) endSession(sent, "rejected", { background, status: 401 });
      return null;
    }
    const guestish = sent !== null ? isGuestToken(sent) : guestHint !== false;
    if (guestish && routes.guest !== null) {
      if (background) {
        // Nobody asked for this request: never start a session for it, so
        // an idle page runs out.
        if (sent !== null) endSession(sent, whyRefused(sent), { background: true, status: 401 });
        return null;
      }
      let token;
      try {
        token = await guestSession(sent);
      } catch (err) {
        endSession(sent, "refresh-failed", { status: err?.status });
        return null;
      }
      if (token) return token;
      endSession(sent, "login-required", { status: 401 });
      return null;
    }
    endSession(sent, sent !== null ? whyRefused(sent) : "login-required", { background, status: 401 });
    return null;
  }

  // --- requests

  function isBackground(input, init) {
    if (init?.background === true) return true;
    if (init?.headers && new Headers(init.headers).has(backgroundHeader)) return true;
    if (typeof Request === "function" && input instanceof Request && !init?.headers && input.headers.has(backgroundHeader)) return true;
    return false;
  }

  async function attempt(base, token, background) {
    const req = base.clone();
    if (token) req.headers.set("Authorization", `Bearer ${token}`);
    if (background) req.headers.set(backgroundHeader, "1");
    const res = await send(req);
    observe(res, background);
    return res;
  }

  /**
   * client sends one request to the API, like fetch(input, init), with the
   * token; init.background marks a request the user did not ask for.
   */
  async function client(input, init = undefined) {
    const url = resolve(input);
    const background = isBackground(input, init);
    let rest = init;
    if (init && "background" in init) {
      rest = { ...init };
      delete rest.background;
    }
    const base = typeof Request === "function" && input instanceof Request
      ? new Request(input, rest)
      : new Request(url, rest);
    if (new URL(base.url).origin !== apiOrigin) throw new ForeignOriginError(base.url, base.url, apiOrigin);

    const sent = readToken();
    const res = await attempt(base, sent, background);
    if (res.status !== 401) return res;
    const next = await handleUnauthorized(sent, { background });
    if (next === null) return res;
    await res.body?.cancel().catch(() => {});
    const again = await attempt(base, next, background);
    if (again.status === 401) await handleUnauthorized(next, { background, retried: true });
    return again;
  }

  // --- the session

  /** setToken stores a token the app obtained itself (null forgets it). */
  function setToken(token) {
    if (token === null || token === undefined) {
      const cur = readToken();
      if (cur !== null) endSession(cur, "signed-out");
      return;
    }
    if (typeof token !== "string" || token === "") throw new TypeError("setToken takes a token string or null");
    store(token, "set");
  }

  /**
   * login posts username and password as a form to the login route
   * (default /login), stores the access_token of the answer and resolves
   * to its claims. It rejects with LoginError when the server refuses.
   */
  async function login(username, password) {
    const req = new Request(resolve(routes.login), {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username: String(username), password: String(password) }).toString(),
      cache: "no-store",
    });
    const res = await send(req);
    let body = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    const token = body?.access_token;
    if (!res.ok || typeof token !== "string" || token === "") {
      throw new LoginError(res.status, typeof body?.message === "string" ? body.message : typeof body?.detail === "string" ? body.detail : "");
    }
    store(token, "login");
    if (!isGuestToken(token)) guestHint = guestHint ?? false;
    return decodeJWT(token);
  }

  /**
   * signOut asks the server to end the session (POST signOutPath, or
   * signOutAllPath with { all: true }), then forgets it here and in the
   * other tabs whatever the answer. ok is true when the token can no
   * longer be used: the server confirmed (2xx) or already refused it (401).
   */
  async function signOut({ all = false } = {}) {
    const token = readToken();
    let status = null;
    let ok = token === null;
    if (token !== null) {
      try {
        const req = new Request(resolve(all ? routes.signOutAll : routes.signOut), {
          method: "POST",
          headers: { Authorization: `Bearer ${token}`, [backgroundHeader]: "1" },
          cache: "no-store",
        });
        const res = await send(req);
        status = res.status;
        ok = res.ok || res.status === 401;
        await res.body?.cancel().catch(() => {});
      } catch {
        ok = false;
      }
    }
    if (readToken() !== null) {
      const cur = readToken();
      storage.removeItem(storageKey);
      tabs.post({ kind: "end", token: cur, reason: "signed-out" });
      emit("sessionend", { reason: "signed-out", background: false, fromOtherTab: false, token: cur, claims: decodeJWT(cur), status: status ?? undefined });
    }
    return { ok, status };
  }

  // --- tabs

  const syncTabs = options.sync ?? sharedWithTabs;
  const channelName = options.channelName ?? `slidingjwt:${storageKey}`;
  const tabs = syncTabs ? openTabs(channelName, sharedWithTabs ? storage : null, fromTab) : { post() {}, close() {} };
  const lock = makeLock(options.locks, syncTabs, storage, `${channelName}:guest`);

  // fromTab applies what another tab said.
  function fromTab(msg) {
    if (!msg || msg.v !== PROTOCOL_VERSION || typeof msg.kind !== "string") return;
    const current = readToken();
    if (msg.kind === "token" && typeof msg.token === "string") {
      if (msg.token === current) {
        // Shared storage: the other tab already wrote it.
        emit("token", { token: msg.token, claims: decodeJWT(msg.token), reason: msg.reason, fromOtherTab: true });
        return;
      }
      if (msg.reason === "renewed" && renewalVerdict(current, msg.token) !== "ok") {
        emit("ignored", { token: msg.token, claims: decodeJWT(msg.token), reason: renewalVerdict(current, msg.token) });
        return;
      }
      store(msg.token, msg.reason, true);
    } else if (msg.kind === "end") {
      const ended = decodeJWT(msg.token);
      if (current !== null) {
        // Only the session that ended there, never another login here.
        if (current !== msg.token && !sameSession(decodeJWT(current), ended)) return;
        storage.removeItem(storageKey);
      } else if (!sharedWithTabs) {
        return; // this tab holds no session to end
      }
      emit("sessionend", { reason: msg.reason, background: false, fromOtherTab: true, token: msg.token, claims: ended });
    }
  }

  // --- the function and its methods

  Object.defineProperties(client, {
    token: { get: readToken, enumerable: true },
    claims: { get: () => decodeJWT(readToken()), enumerable: true },
    session: {
      enumerable: true,
      get() {
        const token = readToken();
        const c = decodeJWT(token);
        if (!c) return null;
        return {
          token,
          subject: typeof c.sub === "string" ? c.sub : null,
          sessionId: typeof c.sid === "string" ? c.sid : null,
          role: typeof c.role === "string" ? c.role : null,
          guest: isGuestClaims(c),
          expiresAt: typeof c.exp === "number" ? new Date(c.exp * 1000) : null,
          claims: c,
        };
      },
    },
    baseURL: { value: baseURL, enumerable: true },
    origin: { value: apiOrigin, enumerable: true },
    delivery: { value: delivery, enumerable: true },
    backgroundHeader: { value: backgroundHeader, enumerable: true },
  });
  Object.assign(client, {
    resolve,
    setToken,
    login,
    signOut,
    guestSession: () => guestSession(readToken()),
    offerToken,
    handleUnauthorized,
    on(type, listener) {
      const set = listeners.get(type);
      if (!set) throw new TypeError(`unknown event ${JSON.stringify(type)}: one of ${EVENT_TYPES.join(", ")}`);
      set.add(listener);
      return () => set.delete(listener);
    },
    off(type, listener) {
      listeners.get(type)?.delete(listener);
    },
    close() {
      tabs.close();
      for (const set of listeners.values()) set.clear();
    },
  });
  return client;
}

// ---------------------------------------------------------------------------
// Tabs

// openTabs opens the channel the tabs of one origin talk on: a
// BroadcastChannel, or, where there is none, storage events of a message
// key in localStorage (only when the token lives there, so a token kept
// out of localStorage is never written to it).
function openTabs(name, localStorage, onMessage) {
  if (typeof BroadcastChannel === "function") {
    const ch = new BroadcastChannel(name);
    ch.onmessage = (e) => onMessage(e.data);
    // Node: an open channel must not keep the process alive.
    if (typeof ch.unref === "function") ch.unref();
    return {
      post: (msg) => ch.postMessage({ v: PROTOCOL_VERSION, ...msg }),
      close: () => ch.close(),
    };
  }
  const win = globalThis.window;
  if (localStorage && win && typeof win.addEventListener === "function") {
    const key = `${name}:message`;
    const onStorage = (e) => {
      if (e.key !== key || !e.newValue) return;
      try {
        onMessage(JSON.parse(e.newValue).msg);
      } catch {
        // not ours
      }
    };
    win.addEventListener("storage", onStorage);
    return {
      post(msg) {
        // A nonce makes each message a change, so the event always fires.
        localStorage.setItem(key, JSON.stringify({ nonce: randomId(), msg: { v: PROTOCOL_VERSION, ...msg } }));
        localStorage.removeItem(key);
      },
      close: () => win.removeEventListener("storage", onStorage),
    };
  }
  return { post() {}, close() {} };
}

// makeLock returns the lock that lets one tab at a time start a guest
// session: the Web Locks API (options.locks, else navigator.locks); where
// it is missing and tabs are kept in step, a lease in the shared storage;
// else none (one tab, or Node).
function makeLock(locks, syncTabs, storage, name) {
  const manager = locks === undefined ? globalThis.navigator?.locks : locks;
  if (manager && typeof manager.request === "function") {
    return { run: (fn) => manager.request(name, { mode: "exclusive" }, () => fn()) };
  }
  if (syncTabs && locks === undefined) return leaseLock(storage, name);
  return { run: (fn) => fn() };
}

const LEASE_MS = 10_000;
const LEASE_POLL_MS = 50;

// leaseLock takes a lease on a storage key: write our id with an expiry,
// read it back a moment later, and the lease is ours when our id is still
// there. A tab that closes holding it loses it when it expires.
function leaseLock(storage, name) {
  const key = `${name}:lease`;
  const read = () => {
    try {
      return JSON.parse(storage.getItem(key) ?? "null");
    } catch {
      return null;
    }
  };
  const pause = (ms) => new Promise((r) => setTimeout(r, ms));
  return {
    async run(fn, done = () => false) {
      const me = randomId();
      const giveUp = Date.now() + LEASE_MS;
      for (;;) {
        if (done()) return fn();
        const held = read();
        if (!held || held.until < Date.now()) {
          storage.setItem(key, JSON.stringify({ owner: me, until: Date.now() + LEASE_MS }));
          await pause(LEASE_POLL_MS / 2);
          if (read()?.owner === me) break;
        }
        if (Date.now() > giveUp) return fn();
        await pause(LEASE_POLL_MS);
      }
      try {
        return await fn();
      } finally {
        if (read()?.owner === me) storage.removeItem(key);
      }
    },
  };
}

function randomId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
