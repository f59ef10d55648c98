// @slidingjwt/client: the client half of sliding-session JWT renewal.
//
// A slidingjwt server answers a request whose token is past its renewal
// threshold with a fresh token in the X-New-Token response header. This
// module keeps the token, sends it to the API (and nowhere else), takes
// the renewals that belong to its session, re-authenticates guests after a
// 401, reports the end of a session, and keeps the tabs of one origin in
// step.
//
// In cookie delivery (createClient({ delivery: "cookie" })) the token lives
// in the server's HttpOnly cookie instead: the module keeps none, sends its
// requests with credentials, and reads the session's expiry, and a renewal
// as a later one, from the X-Session-Expires header: the server sends it
// with every answer that sets the cookie (sign-in, renewal), and on any
// other only when the request asks for it with the same header, which the
// module does while it knows no expiry and when it reads mePath.
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

/**
 * The response header that carries the session's expiry (Unix seconds) in
 * cookie delivery, where script cannot read the token. It is also the
 * request header that asks for it (value "?"): the server sends it on an
 * answer that sets the cookie (sign-in, renewal), and on another
 * authenticated answer only when asked.
 */
export const SESSION_EXPIRES_HEADER = "X-Session-Expires";

// The value of SESSION_EXPIRES_HEADER on a request that asks for the
// expiry: any non-empty value asks.
const EXPIRES_ASK = "?";

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
 * requests to one API with its session, plus the methods and getters of a
 * session (see client.d.ts for every option).
 *
 * In header delivery (the default) the client keeps the token and sends
 * it in the Authorization header. In cookie delivery the token lives in an
 * HttpOnly cookie that script never sees: the client keeps no token,
 * sends its requests with credentials, and learns the session's expiry
 * (and a renewal, as a later expiry) from the X-Session-Expires header.
 */
export function createClient(options = {}) {
  if (options === null || typeof options !== "object") throw new TypeError("createClient takes an options object");
  const delivery = options.delivery ?? "header";
  if (!DELIVERIES.includes(delivery)) {
    throw new TypeError(`options.delivery must be "header" or "cookie"; got ${JSON.stringify(delivery)}`);
  }
  const cookieMode = delivery === "cookie";
  if (cookieMode && options.storage !== undefined) {
    throw new TypeError('options.storage has no use with delivery "cookie": the token stays in the HttpOnly cookie and the client keeps none');
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
    // cookie delivery: the route a guest session is signed in by (a POST,
    // which sets the cookie), and the route that answers the session's
    // claims (null: none; the session is then known by its expiry only).
    guestSignIn: options.guestSignInPath ?? options.loginPath ?? "/login",
    me: options.mePath ?? null,
  };
  const backgroundHeader = options.backgroundHeader ?? BACKGROUND_HEADER;

  // --- where the token lives
  const storageKey = options.storageKey ?? DEFAULT_STORAGE_KEY;
  const local = browserStorage();
  let storage;
  if (cookieMode) storage = memoryStorage(); // never holds a token; see cookie below
  else if (options.storage === undefined) storage = local ?? memoryStorage();
  else if (options.storage === "memory") storage = memoryStorage();
  else storage = checkStorage(options.storage);
  // In cookie delivery every tab of the origin shares the cookie, so the
  // tabs are one session whenever they can talk.
  const sharedWithTabs = cookieMode ? local !== null || typeof BroadcastChannel === "function" && globalThis.window !== undefined : local !== null && storage === local;

  // --- listeners
  const listeners = new Map(EVENT_TYPES.map((t) => [t, new Set()]));
  const callbacks = { token: options.onToken, ignored: options.onIgnored, sessionend: options.onSessionEnd };
  // mark: the guest session this tab made, the name of the lock that
  // marks it (see webLock) and that lock's release; held while that
  // session is this tab's. changeWaiters: the calls of nextChange waiting.
  let mark = null;
  let changeWaiters = [];
  // awaitingHandoff: this tab asked another for its session and waits for
  // it; a hand-off that comes at any other time is dropped (it must never
  // replace a login made meanwhile).
  let awaitingHandoff = false;

  function emit(type, detail) {
    changed();
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

  // --- the session: a token (header delivery) or what is known of the
  // cookie's session (cookie delivery)

  function readToken() {
    if (cookieMode) return null;
    const t = storage.getItem(storageKey);
    return typeof t === "string" && t !== "" ? t : null;
  }

  // cookie (cookie delivery) is what the client knows of the session the
  // cookie holds, or null: { key, exp, claims, guest }. exp comes from
  // X-Session-Expires, claims from mePath (null without one), guest from
  // the claims or the route that signed it in (undefined: not known), and
  // key is a random id that stays the same across the session's renewals.
  // Every change makes a new object, so a request can tell whether the
  // session changed while it was out.
  let cookie = null;

  /**
   * current is what a request is sent with: the stored token in header
   * delivery, the cookie's session in cookie delivery; null when none.
   */
  function current() {
    return cookieMode ? cookie : readToken();
  }

  function claimsOf(cred) {
    if (cred === null) return null;
    return cookieMode ? cred.claims : decodeJWT(cred);
  }

  function expiryOf(cred) {
    const exp = cookieMode ? cred?.exp : claimsOf(cred)?.exp;
    return typeof exp === "number" ? exp : null;
  }

  function isGuest(cred) {
    if (!cred) return false;
    if (!cookieMode) return isGuestClaims(decodeJWT(cred));
    // A session whose kind is not known yet counts as a guest's unless the
    // server is known to require logins: its 401 asks the guest route,
    // whose answer settles it.
    return cred.guest ?? guestHint !== false;
  }

  // sameCred reports whether a and b are one session (b may be a renewal
  // of a).
  function sameCred(a, b) {
    if (!a || !b) return false;
    return cookieMode ? a.key === b.key : sameSession(decodeJWT(a), decodeJWT(b));
  }

  function tokenDetail(cred, reason, fromOtherTab) {
    const exp = expiryOf(cred);
    return {
      token: cookieMode ? null : cred,
      claims: claimsOf(cred),
      expiresAt: exp === null ? null : new Date(exp * 1000),
      reason,
      fromOtherTab,
    };
  }

  // store saves cred (a token, or a cookie session) and says so, here and
  // (unless it came from there) to the other tabs.
  function store(cred, reason, fromOtherTab = false) {
    if (cookieMode) {
      cookie = cred;
      if (cred.guest === true) guestHint = true;
      if (!fromOtherTab) tabs.post({ kind: "session", session: cred, reason });
    } else {
      storage.setItem(storageKey, cred);
      if (isGuestClaims(decodeJWT(cred))) guestHint = true;
      if (!fromOtherTab) tabs.post({ kind: "token", token: cred, reason });
    }
    emit("token", tokenDetail(cred, reason, fromOtherTab));
  }

  function forget() {
    if (cookieMode) cookie = null;
    else storage.removeItem(storageKey);
  }

  // endSession forgets cred when it is still the current one, and reports
  // the end of the session, to the other tabs too. A null cred (a request
  // sent without a session) is only reported.
  function endSession(cred, reason, { background = false, status } = {}) {
    if (cred !== null) {
      if (current() !== cred) return;
      forget();
      tabs.post({ kind: "end", token: cookieMode ? null : cred, key: cookieMode ? cred.key : undefined, reason, background });
    }
    emit("sessionend", { reason, background, fromOtherTab: false, token: cookieMode ? null : cred, claims: claimsOf(cred), status });
  }

  // whyRefused says why the server refused cred: it was past its expiry
  // by this machine's clock, or it was refused before (signed out, or not
  // valid on this server).
  function whyRefused(cred) {
    const exp = expiryOf(cred);
    return exp !== null && exp * 1000 <= Date.now() ? "expired" : "rejected";
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

  // request builds a request of the client's own (sign-in, sign-out,
  // guest route) to path on the API.
  function ownRequest(path, init) {
    return new Request(resolve(path), { cache: "no-store", ...(cookieMode ? { credentials: "include" } : {}), ...init });
  }

  // --- renewals

  /**
   * offerToken stores token, a renewal a response carried, when it belongs
   * to the stored session and expires later; it reports whether it did.
   * A renewal that came with a background response is never stored. (Header
   * delivery; in cookie delivery there is no token to offer.)
   */
  function offerToken(token, { background = false } = {}) {
    if (cookieMode || typeof token !== "string" || token === "") return false;
    const now = readToken();
    if (token === now) return false;
    const why = background ? "background" : renewalVerdict(now, token);
    if (why !== "ok") {
      emit("ignored", { token, claims: decodeJWT(token), reason: why });
      return false;
    }
    store(token, "renewed");
    return true;
  }

  /**
   * asksExpiry reports whether a request sent with sent asks the server
   * for the session's expiry (the SESSION_EXPIRES_HEADER request header):
   * in cookie delivery, while no expiry of the session is known (no
   * session known, or one whose expiry no answer has named yet). A
   * renewal's answer names the new expiry unasked.
   */
  function asksExpiry(sent) {
    return cookieMode && (sent === null || sent === undefined || typeof sent.exp !== "number");
  }

  // parseExpiry reads X-Session-Expires: Unix seconds, or null.
  function parseExpiry(raw) {
    if (typeof raw !== "string" || !/^\d{1,12}$/.test(raw.trim())) return null;
    return Number(raw.trim());
  }

  /**
   * offerExpiry takes the session's expiry a response carried in
   * X-Session-Expires (cookie delivery) for a request sent with sent: a
   * later expiry of the current session is its renewal (the browser has
   * already taken the new cookie, so even a background answer counts:
   * only the server can refuse to renew, which it does for a background
   * request); an expiry while no session is known is a session the cookie
   * already held. An answer for a session that has ended or been replaced
   * since restores nothing.
   */
  function offerExpiry(exp, sent = null) {
    if (!cookieMode || exp === null) return false;
    const now = cookie;
    if (now === null) {
      if (sent !== null) return false; // it ended while the request was out
      store({ key: randomId(), exp, claims: null, guest: guestHint === true ? true : undefined }, "resumed");
      return true;
    }
    if (sent !== null && !sameCred(sent, now)) return false;
    if (now.exp !== null && !(exp > now.exp)) return false;
    store({ ...now, exp, claims: now.claims && { ...now.claims, exp } }, "renewed");
    return true;
  }

  /**
   * observe takes what a response says about the session: get(name)
   * returns one of its headers. Only a response below 400 counts. sent is
   * what the request was sent with (current() when it left).
   */
  function observe(status, get, { background = false, sent = null } = {}) {
    if (!(status >= 200 && status < 400)) return;
    if (cookieMode) {
      offerExpiry(parseExpiry(get(SESSION_EXPIRES_HEADER)), sent);
      return;
    }
    const renewed = get(NEW_TOKEN_HEADER);
    if (renewed) offerToken(String(renewed), { background });
  }

  // --- guest sessions

  let guestInFlight = null;

  async function failIfNot(res, path, ...also) {
    if (res.ok || also.includes(res.status)) return;
    await res.body?.cancel().catch(() => {});
    const err = new Error(`${path} answered ${res.status}`);
    err.status = res.status;
    throw err;
  }

  // cookieSession makes the cookie session a sign-in answer (res) started:
  // its expiry from X-Session-Expires, and its claims from mePath when
  // there is one (which also tells whether it is a guest's).
  async function cookieSession(res, guest) {
    const next = { key: randomId(), exp: parseExpiry(res.headers.get(SESSION_EXPIRES_HEADER)), claims: null, guest };
    if (routes.me !== null) {
      const me = await readMe();
      if (me) {
        next.claims = me.claims;
        next.exp = me.exp ?? next.exp ?? (typeof me.claims.exp === "number" ? me.claims.exp : null);
        next.guest = isGuestClaims(me.claims);
      }
    }
    return next;
  }

  // readMe asks mePath for the session's claims and its expiry, as a
  // background request (reading them is no activity of the user's); null
  // when the cookie holds no session.
  async function readMe() {
    const headers = { Accept: "application/json", [backgroundHeader]: "1", [SESSION_EXPIRES_HEADER]: EXPIRES_ASK };
    const res = await send(ownRequest(routes.me, { method: "GET", headers }));
    if (res.status === 401) {
      await res.body?.cancel().catch(() => {});
      return null;
    }
    await failIfNot(res, routes.me);
    const claims = await res.json();
    if (claims === null || typeof claims !== "object") throw new Error(`${routes.me} answered no claims`);
    return { claims, exp: parseExpiry(res.headers.get(SESSION_EXPIRES_HEADER)) };
  }

  // fetchGuest asks the guest route for a new guest session and stores it;
  // it returns the token (header delivery) or the cookie's session, or null
  // when the server has no guest sessions (logins are configured). In
  // cookie delivery a GET never sets the cookie: the guest route says
  // whether guests are welcome, and a POST to guestSignInPath signs one in.
  async function fetchGuest() {
    if (routes.guest === null) return null;
    const res = await send(ownRequest(routes.guest, { method: "GET", headers: { Accept: "application/json" } }));
    await failIfNot(res, routes.guest);
    const body = await res.json();
    if (!cookieMode) {
      const token = body?.access_token;
      if (typeof token !== "string" || token === "" || body.auth_configured === true) {
        guestHint = false;
        return null;
      }
      store(token, "guest");
      return token;
    }
    if (body?.auth_configured === true) {
      guestHint = false;
      return null;
    }
    const signIn = await send(ownRequest(routes.guestSignIn, { method: "POST", headers: { Accept: "application/json" } }));
    // 409: the cookie holds a valid session already (another tab signed
    // in meanwhile): the server never puts a guest over it; use it.
    await failIfNot(signIn, routes.guestSignIn, 409);
    await signIn.body?.cancel().catch(() => {});
    const existing = signIn.status === 409;
    if (!existing) guestHint = true;
    const next = await cookieSession(signIn, existing ? undefined : true);
    store(next, existing ? "resumed" : "guest");
    return next;
  }

  /**
   * guestSession starts a new guest session unless one is already being
   * started, in this tab (the calls share one request) or in another tab
   * (one tab at a time holds the lock; the others take the session it
   * stored). failed is the session the caller found refused, if any: a
   * session other than it already stored is used instead of asking again.
   * It resolves to the new session (the token in header delivery), or null
   * when only a login can help.
   */
  function guestSession(failed = null) {
    if (guestInFlight) return guestInFlight;
    const replaced = () => {
      const now = current();
      return now !== null && now !== failed;
    };
    // Another request or tab stored a session while this one waited: a
    // guest session is used as it is; a login is left alone.
    const taken = () => {
      const now = current();
      return isGuest(now) ? now : null;
    };
    guestInFlight = lock
      .run(async () => {
        for (;;) {
          if (replaced()) return taken();
          // Another tab's mark on a session other than the refused one:
          // that session is on its way to this tab (see webLock). Ask its
          // tab to send it, and wait for it, or for the mark to go.
          const refused = markId(failed);
          const others = (await lock.marks()).filter((m) => m.id !== refused && m.name !== mark?.name);
          if (replaced()) return taken();
          if (others.length === 0) break;
          const names = others.map((m) => m.name);
          const gone = lock.gone(names);
          const change = nextChange();
          awaitingHandoff = true;
          tabs.post({ kind: "ask", from: tabId, marks: names });
          try {
            await Promise.race([change, gone.done]);
          } finally {
            awaitingHandoff = false;
            gone.cancel();
          }
        }
        const next = await fetchGuest();
        if (next !== null) holdMark(next, await lock.mark(markId(next)));
        return next;
      }, replaced)
      .finally(() => {
        guestInFlight = null;
      });
    return guestInFlight;
  }

  // markId names cred's session in a mark: its cookie key, else its sid,
  // else its subject (guests without a sid share one, and so one mark id).
  function markId(cred) {
    if (cred === null) return null;
    if (cookieMode) return `k:${cred.key}`;
    const c = decodeJWT(cred);
    if (typeof c?.sid === "string") return `s:${c.sid}`;
    return typeof c?.sub === "string" ? `u:${c.sub}` : null;
  }

  function holdMark(cred, held) {
    dropMark();
    mark = { cred, ...held };
    changed();
  }

  function dropMark() {
    mark?.release();
    mark = null;
  }

  // nextChange resolves at this tab's next change of session (a store, an
  // end, a session another tab reported).
  function nextChange() {
    return new Promise((resolve) => changeWaiters.push(resolve));
  }

  // changed lets go of the mark once its session is no longer this tab's,
  // and wakes whoever waits for a change.
  function changed() {
    if (mark !== null && !sameCred(mark.cred, current())) dropMark();
    const waiters = changeWaiters;
    changeWaiters = [];
    for (const w of waiters) w();
  }

  // --- 401

  /**
   * handleUnauthorized decides what follows a 401 for a request sent with
   * sent (what current() was when it left; null: no session). It resolves
   * to what to send the request again with, once (the token in header
   * delivery; in cookie delivery the session, as the cookie goes by
   * itself), or null when the 401 stands; when the session is over it has
   * forgotten it and reported it. retried: this 401 answered the second
   * attempt, which never gets a third.
   */
  async function handleUnauthorized(sent, { background = false, retried = false } = {}) {
    const now = current();
    if (now !== sent) {
      // Another request changed the session while this one was out.
      if (now === null) return null; // the session ended or was signed out meanwhile
      if (retried) return null;
      if (sent !== null && sameCred(sent, now)) return now; // renewed meanwhile
      if ((sent === null || isGuest(sent)) && isGuest(now)) return now; // a guest session replaced it
      return null; // another login is stored: this request was meant for the one before
    }
    if (retried) {
      if (sent !== null) endSession(sent, "rejected", { background, status: 401 });
      return null;
    }
    const guestish = sent !== null ? isGuest(sent) : guestHint !== false;
    if (guestish && routes.guest !== null) {
      if (background) {
        // Nobody asked for this request: never start a session for it, so
        // an idle page runs out.
        if (sent !== null) endSession(sent, whyRefused(sent), { background: true, status: 401 });
        return null;
      }
      let next;
      try {
        next = await guestSession(sent);
      } catch (err) {
        endSession(sent, "refresh-failed", { status: err?.status });
        return null;
      }
      if (next) return next;
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

  async function attempt(base, cred, background) {
    const req = base.clone();
    if (cred && !cookieMode) req.headers.set("Authorization", `Bearer ${cred}`);
    if (background) req.headers.set(backgroundHeader, "1");
    if (asksExpiry(cred)) req.headers.set(SESSION_EXPIRES_HEADER, EXPIRES_ASK);
    const res = await send(req);
    observe(res.status, (name) => res.headers.get(name), { background, sent: cred });
    return res;
  }

  /**
   * client sends one request to the API, like fetch(input, init), with the
   * session; init.background marks a request the user did not ask for.
   */
  async function client(input, init = undefined) {
    const url = resolve(input);
    const background = isBackground(input, init);
    let rest = init;
    if ((init && "background" in init) || cookieMode) {
      rest = { ...init };
      delete rest.background;
      // The cookie goes with requests to another origin only with
      // credentials "include" (the API's CORS answer must allow them).
      if (cookieMode) rest.credentials = "include";
    }
    const base = typeof Request === "function" && input instanceof Request
      ? new Request(input, rest)
      : new Request(url, rest);
    if (new URL(base.url).origin !== apiOrigin) throw new ForeignOriginError(base.url, base.url, apiOrigin);

    const sent = current();
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

  /**
   * setToken stores a token the app obtained itself (null forgets the
   * session). In cookie delivery only null is allowed: script never holds
   * the token.
   */
  function setToken(token) {
    if (token === null || token === undefined) {
      const cur = current();
      if (cur !== null) endSession(cur, "signed-out");
      return;
    }
    if (cookieMode) throw new TypeError('setToken takes only null with delivery "cookie": the server sets the session cookie');
    if (typeof token !== "string" || token === "") throw new TypeError("setToken takes a token string or null");
    store(token, "set");
  }

  /**
   * login posts username and password as a form to the login route
   * (default /login) and resolves to the session's claims. In header
   * delivery it stores the access_token of the answer; in cookie delivery
   * the answer sets the cookie, its X-Session-Expires gives the expiry and
   * mePath (when set) the claims. It rejects with LoginError when the
   * server refuses.
   */
  async function login(username, password) {
    const req = ownRequest(routes.login, {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username: String(username), password: String(password) }).toString(),
    });
    const res = await send(req);
    let body = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    const token = body?.access_token;
    if (!res.ok || (!cookieMode && (typeof token !== "string" || token === ""))) {
      throw new LoginError(res.status, typeof body?.message === "string" ? body.message : typeof body?.detail === "string" ? body.detail : "");
    }
    if (cookieMode) {
      const guest = body?.auth_mode === "disabled" ? true : body?.auth_mode === "enabled" ? false : undefined;
      const next = await cookieSession(res, guest);
      store(next, "login");
      if (next.guest === false) guestHint = guestHint ?? false;
      return next.claims;
    }
    store(token, "login");
    if (!isGuestClaims(decodeJWT(token))) guestHint = guestHint ?? false;
    return decodeJWT(token);
  }

  /**
   * resume looks for the session there is already, for a page that just
   * loaded: in header delivery the stored one; in cookie delivery it asks
   * mePath (when set), as a background request, whether the cookie holds
   * one. It resolves to the session, or null.
   */
  async function resume() {
    if (!cookieMode || routes.me === null) return sessionOf(current());
    const me = await readMe();
    if (!me) return null;
    const now = cookie;
    const exp = me.exp ?? (typeof me.claims.exp === "number" ? me.claims.exp : null);
    store({ key: now?.key ?? randomId(), exp, claims: me.claims, guest: isGuestClaims(me.claims) }, "resumed");
    return sessionOf(cookie);
  }

  /**
   * signOut asks the server to end the session (POST signOutPath, or
   * signOutAllPath with { all: true }), then forgets it here and in the
   * other tabs whatever the answer. ok is true when the session can no
   * longer be used: the server confirmed (2xx) or already refused it
   * (401). In cookie delivery the server is always asked (a cookie the
   * client has not heard of yet may be there), and deletes the cookie.
   */
  async function signOut({ all = false } = {}) {
    const token = readToken();
    let status = null;
    let ok = !cookieMode && token === null;
    if (cookieMode || token !== null) {
      try {
        const headers = { [backgroundHeader]: "1" };
        if (token !== null) headers.Authorization = `Bearer ${token}`;
        const res = await send(ownRequest(all ? routes.signOutAll : routes.signOut, { method: "POST", headers }));
        status = res.status;
        ok = res.ok || res.status === 401;
        await res.body?.cancel().catch(() => {});
      } catch {
        ok = false;
      }
    }
    const cur = current();
    if (cur !== null) {
      forget();
      tabs.post({ kind: "end", token: cookieMode ? null : cur, key: cookieMode ? cur.key : undefined, reason: "signed-out" });
      emit("sessionend", { reason: "signed-out", background: false, fromOtherTab: false, token: cookieMode ? null : cur, claims: claimsOf(cur), status: status ?? undefined });
    } else if (cookieMode && ok) {
      // The cookie held a session this tab had not heard of: tell the
      // tabs that had.
      tabs.post({ kind: "end", token: null, key: null, reason: "signed-out" });
    }
    return { ok, status };
  }

  // --- tabs

  const syncTabs = options.sync ?? sharedWithTabs;
  const tabId = randomId(); // the address of a hand-off to this tab
  const channelName = options.channelName ?? `slidingjwt:${cookieMode ? "cookie" : storageKey}`;
  // The storage-event fallback and the lease write to localStorage: in
  // header delivery only when the token lives there; in cookie delivery
  // they hold no token.
  const tabStorage = cookieMode ? local : sharedWithTabs ? storage : null;
  const tabs = syncTabs ? openTabs(channelName, tabStorage, fromTab) : { post() {}, close() {} };
  const lock = makeLock(options.locks, syncTabs, cookieMode ? local : storage, `${channelName}:guest`);

  // fromTab applies what another tab said.
  function fromTab(msg) {
    if (!msg || msg.v !== PROTOCOL_VERSION || typeof msg.kind !== "string") return;
    if (msg.kind === "ask") {
      // A tab waits for the session this tab marked: send it there.
      const now = current();
      if (mark !== null && now !== null && Array.isArray(msg.marks) && msg.marks.includes(mark.name)) {
        tabs.post(cookieMode ? { kind: "handoff", to: msg.from, session: now } : { kind: "handoff", to: msg.from, token: now });
      }
      return;
    }
    if (msg.kind === "handoff") {
      if (msg.to !== tabId || !awaitingHandoff) return;
      msg = { ...msg, kind: cookieMode ? "session" : "token", reason: "guest" };
    }
    if (cookieMode) {
      fromTabCookie(msg);
      return;
    }
    const now = readToken();
    if (msg.kind === "token" && typeof msg.token === "string") {
      if (msg.token === now) {
        // Shared storage: the other tab already wrote it.
        emit("token", tokenDetail(msg.token, msg.reason, true));
        return;
      }
      if (msg.reason === "renewed" && renewalVerdict(now, msg.token) !== "ok") {
        emit("ignored", { token: msg.token, claims: decodeJWT(msg.token), reason: renewalVerdict(now, msg.token) });
        return;
      }
      store(msg.token, msg.reason, true);
    } else if (msg.kind === "end") {
      const ended = decodeJWT(msg.token);
      if (now !== null) {
        // Only the session that ended there, never another login here.
        if (now !== msg.token && !sameSession(decodeJWT(now), ended)) return;
        storage.removeItem(storageKey);
      } else if (!sharedWithTabs) {
        return; // this tab holds no session to end
      }
      emit("sessionend", { reason: msg.reason, background: msg.background === true, fromOtherTab: true, token: msg.token, claims: ended });
    }
  }

  // fromTabCookie applies what another tab said in cookie delivery, where
  // the tabs share the cookie and so one session: a session another tab
  // started or renewed is this tab's too, and its end ends it here.
  function fromTabCookie(msg) {
    const now = cookie;
    if (msg.kind === "session") {
      const s = msg.session;
      if (!s || typeof s.key !== "string") return;
      const exp = typeof s.exp === "number" ? s.exp : null;
      if (now !== null && now.key === s.key) {
        if (exp === null || (now.exp !== null && !(exp > now.exp))) return; // nothing new
        store({ ...now, exp, claims: s.claims ?? now.claims }, "renewed", true);
        return;
      }
      store({ key: s.key, exp, claims: s.claims ?? null, guest: typeof s.guest === "boolean" ? s.guest : undefined }, msg.reason, true);
    } else if (msg.kind === "end") {
      if (now !== null) cookie = null;
      emit("sessionend", { reason: msg.reason, background: msg.background === true, fromOtherTab: true, token: null, claims: now?.claims ?? null });
    }
  }

  // --- the function and its methods

  function sessionOf(cred) {
    if (cred === null) return null;
    const c = claimsOf(cred);
    if (!cookieMode && !c) return null;
    const exp = expiryOf(cred);
    return {
      token: cookieMode ? null : cred,
      subject: typeof c?.sub === "string" ? c.sub : null,
      sessionId: typeof c?.sid === "string" ? c.sid : null,
      role: typeof c?.role === "string" ? c.role : null,
      guest: cookieMode ? cred.guest === true : isGuestClaims(c),
      expiresAt: exp === null ? null : new Date(exp * 1000),
      claims: c,
    };
  }

  Object.defineProperties(client, {
    token: { get: readToken, enumerable: true },
    claims: { get: () => claimsOf(current()), enumerable: true },
    session: { get: () => sessionOf(current()), enumerable: true },
    baseURL: { value: baseURL, enumerable: true },
    origin: { value: apiOrigin, enumerable: true },
    delivery: { value: delivery, enumerable: true },
    backgroundHeader: { value: backgroundHeader, enumerable: true },
  });
  Object.assign(client, {
    resolve,
    setToken,
    login,
    resume,
    signOut,
    guestSession: () => guestSession(current()),
    current,
    asksExpiry,
    offerToken,
    observe,
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
      dropMark();
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
  if (manager && typeof manager.request === "function") return webLock(manager, name, syncTabs);
  if (syncTabs && locks === undefined && storage) return { ...leaseLock(storage, name), ...noHandOff };
  return { run: (fn) => fn(), ...noHandOff };
}

// noHandOff is the hand-off of a lock that needs none (see webLock): it has
// no marks. A lease lives in the storage the session does, and a tab reads
// the session written there before the lease's release.
const noHandOff = {
  marks: async () => [],
  gone: () => ({ done: new Promise(() => {}), cancel() {} }),
  mark: async () => ({ name: null, release() {} }),
};

// webLock is the guest lock on the Web Locks API. With tabs kept in step it
// also hands the session over: a session another tab made reaches a tab
// (its copy of localStorage, the channel's message) a moment after that
// tab released the lock, in no order with the release, so a tab that
// waited could take the lock, still read its old session and ask for a
// second one. So a tab that made a session marks it, before it releases
// the guest lock, with a shared lock of its own, name:made:<session>:<id>,
// held while that session is its own. A tab holding the guest lock that
// finds another tab's mark on a session other than the one it found
// refused asks that tab for the session on the channel and waits for it to
// arrive, or for the mark to go (the tab closed, or moved to another
// session), before it asks the server. Events only: no timer.
function webLock(manager, name, handOff) {
  const run = (fn) => manager.request(name, { mode: "exclusive" }, () => fn());
  if (!handOff || typeof manager.query !== "function" || typeof AbortController !== "function") {
    return { run, ...noHandOff };
  }
  const prefix = `${name}:made:`;
  return {
    run,
    // marks lists the marks held, each as its lock's name and the id of
    // the session it marks.
    async marks() {
      let held;
      try {
        held = (await manager.query())?.held ?? [];
      } catch {
        return []; // no hand-off, as without the Web Locks API
      }
      const out = [];
      for (const l of held) {
        const n = l?.name;
        if (typeof n !== "string" || !n.startsWith(prefix)) continue;
        try {
          out.push({ name: n, id: decodeURIComponent(n.slice(prefix.length, n.lastIndexOf(":"))) });
        } catch {
          // not a mark of ours
        }
      }
      return out;
    },
    // gone resolves done once one of the named marks is let go; cancel
    // stops waiting for the others.
    gone(names) {
      const stop = new AbortController();
      const waits = names.map((n) => manager.request(n, { mode: "exclusive", signal: stop.signal }, () => {}));
      return { done: Promise.any(waits).catch(() => {}), cancel: () => stop.abort() };
    },
    // mark takes a mark on the session id and resolves, once it is held,
    // to its name and its release.
    mark: (id) =>
      new Promise((held) => {
        const lockName = `${prefix}${encodeURIComponent(id ?? "")}:${randomId()}`;
        let release;
        const hold = new Promise((r) => (release = r));
        manager
          .request(lockName, { mode: "shared" }, () => {
            held({ name: lockName, release: () => release() });
            return hold;
          })
          .catch(() => held({ name: null, release() {} }));
      }),
  };
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
