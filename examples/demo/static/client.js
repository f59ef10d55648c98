// client.js: a dependency-free browser client for a slidingjwt API.
//
// It keeps the access token in localStorage, sends it as
// "Authorization: Bearer <token>", and picks up the renewed token a response
// carries in the X-New-Token header. On a 401 a guest session is replaced
// (one shared call to /auth-status, then the request is retried once); a
// password session goes back to the login page. A request whose 401 comes
// back after another request renewed the same session is retried once with
// the renewed token, whatever the role; a 401 that comes back after the
// session was already given up (a login is required, or the user signed
// out) changes nothing more.
//
// The client only talks to the API's origin: the origin of baseURL, or the
// page's own origin when baseURL is "". A request whose URL resolves to any
// other origin (an absolute URL, or a path such as "//host/x" that the
// browser reads as one) is refused before anything is sent: fetch, login
// and authStatus reject with a ForeignOrigin error. Use window.fetch for
// other hosts.
//
//   import { createClient } from "/static/client.js";
//   const api = createClient({ baseURL: "https://api.example.com" });
//   const res = await api.fetch("/api/me");
//
// Plain ES module, no build step. Works in any browser with fetch,
// TextDecoder and private class fields.

/** The response header that carries a renewed token (raw JWT, no prefix). */
export const NEW_TOKEN_HEADER = "X-New-Token";

/** Default localStorage key of the token. */
export const DEFAULT_STORAGE_KEY = "slidingjwt.token";

/**
 * base64UrlDecode turns base64url text (RFC 4648 section 5, padding
 * optional) into bytes. It throws on text that is not base64url.
 */
export function base64UrlDecode(text) {
  let b64 = String(text).replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  if (/[^A-Za-z0-9+/]/.test(b64) || b64.length % 4 === 1) {
    throw new TypeError("not base64url");
  }
  b64 += "===".slice((b64.length + 3) % 4);
  const binary = atob(b64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * decodeJWT returns the payload of a JWT as an object, or null when token is
 * not a JWT with a JSON object payload in UTF-8. It does not verify the
 * signature: only the server can, and the client only reads the claims to
 * show them and to recognise its own session.
 */
export function decodeJWT(token) {
  if (typeof token !== "string") return null;
  const parts = token.split(".");
  if (parts.length !== 3 || parts[1] === "") return null;
  try {
    const json = new TextDecoder("utf-8", { fatal: true }).decode(base64UrlDecode(parts[1]));
    const payload = JSON.parse(json);
    return payload !== null && typeof payload === "object" && !Array.isArray(payload) ? payload : null;
  } catch {
    return null;
  }
}

/** isGuestClaims reports whether claims belong to a guest (no-login) session. */
export function isGuestClaims(claims) {
  if (!claims) return false;
  return claims.role === "guest" || claims.metadata?.auth_mode === "disabled";
}

/** sameSession reports whether next may replace current as its renewal. */
export function sameSession(current, next) {
  if (!current || !next) return false;
  if (typeof next.sub !== "string" || next.sub !== current.sub) return false;
  // Every guest has sub "guest": the session id tells guest sessions apart.
  if (current.sid && next.sid && next.sid !== current.sid) return false;
  // A renewal never shortens a session: an older token arriving late loses.
  if (typeof current.exp === "number" && typeof next.exp === "number" && next.exp < current.exp) {
    return false;
  }
  return true;
}

/** LoginRequired is the error a client reports when only a login can help. */
export class LoginRequired extends Error {
  constructor(reason) {
    super(`login required: ${reason}`);
    this.name = "LoginRequired";
    this.reason = reason;
  }
}

/**
 * ForeignOrigin is the error a client rejects with when a request's URL
 * resolves to another origin than the API's. Nothing was sent: the token
 * (or a password) never leaves for another host.
 */
export class ForeignOrigin extends Error {
  constructor(path, url, origin) {
    super(`${JSON.stringify(path)} resolves to ${url}, which is not on the API origin ${origin}: ` +
      "this client sends requests only there (use window.fetch for other hosts)");
    this.name = "ForeignOrigin";
    this.path = path;
    this.url = url;
    this.origin = origin;
  }
}

/**
 * TokenClient wraps fetch for one API. Make one with createClient.
 *
 * Options (all optional):
 *   baseURL      the API origin (and path prefix), for a page served from
 *                another origin; default "" (the page's own origin). Only
 *                this origin is ever sent a request (see ForeignOrigin).
 *   storage      a Storage (default localStorage)
 *   storageKey   the key of the token in storage (default "slidingjwt.token")
 *   fetch        the fetch function to use (default globalThis.fetch)
 *   authStatusPath, loginPath  default "/auth-status" and "/login"
 *   guest        true when the server is known to run without logins; a
 *                token's own claims take precedence
 *   onToken(token, claims, reason)   a token was stored; reason is "login",
 *                "guest" or "renewed"
 *   onIgnored(token, claims, current) an X-New-Token for another session
 *                was ignored
 *   onExpired(reason)       a background request found the session gone
 *   onLoginRequired(reason) the session is over and only a login helps;
 *                reason is "expired", "rejected", "refresh-failed" or
 *                "auth-configured"
 */
export class TokenClient {
  #storage;
  #fetch;
  #refreshing = null;

  constructor(options = {}) {
    this.baseURL = (options.baseURL ?? "").replace(/\/+$/, "");
    this.storageKey = options.storageKey ?? DEFAULT_STORAGE_KEY;
    this.authStatusPath = options.authStatusPath ?? "/auth-status";
    this.loginPath = options.loginPath ?? "/login";
    this.guest = options.guest ?? null;
    this.#storage = options.storage ?? globalThis.localStorage;
    const f = options.fetch ?? globalThis.fetch;
    this.#fetch = (...args) => f.apply(globalThis, args);
    const noop = () => {};
    this.onToken = options.onToken ?? noop;
    this.onIgnored = options.onIgnored ?? noop;
    this.onExpired = options.onExpired ?? noop;
    this.onLoginRequired = options.onLoginRequired ?? noop;
  }

  /** token is the stored token, or null. Read fresh each time, so a token another tab stored is used at once. */
  get token() {
    return this.#storage.getItem(this.storageKey);
  }

  /** claims are the stored token's decoded claims, or null. */
  get claims() {
    return decodeJWT(this.token);
  }

  /**
   * url resolves path against baseURL (a path is appended to it; an
   * absolute URL is taken as it is) and returns the absolute URL. It throws
   * ForeignOrigin when the result is not on the API's origin (baseURL's, or
   * the page's when baseURL is ""), so "//evil.example/x" never gets the
   * token.
   */
  url(path) {
    if (typeof path !== "string" && !(path instanceof URL)) {
      throw new TypeError("the path must be a string or a URL");
    }
    path = String(path);
    const page = globalThis.location?.href;
    let api;
    try {
      api = new URL(this.baseURL || page, page);
    } catch {
      throw new TypeError(`baseURL ${JSON.stringify(this.baseURL)} is not a URL (outside a page, give an absolute one)`);
    }
    const joined = /^[a-z][a-z0-9+.-]*:/i.test(path) ? path : this.baseURL + (path.startsWith("/") ? path : "/" + path);
    // Judge the URL the browser will fetch, after its own parsing: it reads
    // "/\\host" and "\t//host" as "//host", a URL on another host.
    const target = new URL(joined, page ?? api.href);
    if (api.origin === "null" || target.origin !== api.origin) {
      throw new ForeignOrigin(path, target.href, api.origin);
    }
    return target.href;
  }

  /** isGuest reports whether token (default: the stored one) is a guest session. */
  isGuest(token = this.token) {
    const claims = decodeJWT(token);
    return claims ? isGuestClaims(claims) : this.guest === true;
  }

  /** store saves token and tells onToken. */
  store(token, reason) {
    this.#storage.setItem(this.storageKey, token);
    this.onToken(token, decodeJWT(token), reason);
  }

  /** clear forgets the stored token. */
  clear() {
    this.#storage.removeItem(this.storageKey);
  }

  /**
   * fetch sends a request to the API with the stored token and returns the
   * Response, like window.fetch. A renewed token in the response replaces
   * the stored one when it belongs to the same session.
   *
   * On a 401 of a guest session it fetches one new guest token (shared by
   * every request that fails at the same time) and retries once. On a 401
   * that arrives after another request stored a renewal of the same
   * session, it retries once with the stored token, for any role. A 401
   * that arrives after the stored token was cleared (a login is required,
   * or the user signed out) is returned as it is. A body that is a stream
   * cannot be sent twice; use a string, Blob or FormData.
   *
   * opts.background marks a request the user did not ask for, such as a
   * status poll: its 401 is reported through onExpired (guest) or
   * onLoginRequired (password) and never starts a new session, so an idle
   * page cannot keep itself signed in.
   *
   * It rejects with ForeignOrigin, sending nothing, when path resolves to
   * another origin than the API's (see url).
   */
  async fetch(path, init = {}, opts = {}) {
    const url = this.url(path);
    const sent = this.token;
    const res = await this.#send(url, init, sent);
    if (res.status !== 401) return res;

    const current = this.token;
    if (sent && current === null) {
      // The token was cleared while this request was out: a request that
      // found out first already required a login (and said so), or the
      // user signed out. A new guest session now would undo either.
      return res;
    }
    if (current && current !== sent) {
      // The token changed while this request was out, so this 401 says
      // nothing about the stored one. Retry once with it when it renews the
      // session this request was sent for (any role; a background request
      // too, as that starts no session), or when a guest request lost the
      // race with a guest refresh. Another login is left alone.
      if (sameSession(decodeJWT(sent), decodeJWT(current))) return this.#retry(url, init, current, opts);
      if (opts.background || !this.isGuest(sent) || !this.isGuest(current)) return res;
      return this.#retry(url, init, current, opts);
    }
    if (!this.isGuest(sent)) {
      // A password session is over: only a login helps. No retry.
      this.#loginRequired(sent ? "expired" : "rejected");
      return res;
    }
    if (opts.background) {
      // Never start a new session for a request nobody asked for.
      this.onExpired("expired");
      return res;
    }
    let fresh;
    try {
      fresh = await this.refreshGuest(); // joins a refresh already under way
    } catch (err) {
      this.#loginRequired(err instanceof LoginRequired ? err.reason : "refresh-failed");
      return res;
    }
    return this.#retry(url, init, fresh, opts);
  }

  /**
   * authStatus asks the server whether logins are configured. In guest mode
   * the answer carries a guest token, which is stored. Concurrent calls
   * share one request.
   */
  authStatus() {
    if (!this.#refreshing) {
      this.#refreshing = (async () => {
        const res = await this.#fetch(this.url(this.authStatusPath), {
          headers: { Accept: "application/json" },
          credentials: "omit",
          cache: "no-store",
        });
        if (!res.ok) throw new Error(`${this.authStatusPath} answered ${res.status}`);
        const body = await res.json();
        this.guest = body.auth_configured === false;
        if (this.guest && typeof body.access_token === "string" && body.access_token) {
          this.store(body.access_token, "guest");
        }
        return body;
      })().finally(() => {
        this.#refreshing = null;
      });
    }
    return this.#refreshing;
  }

  /** refreshGuest starts a new guest session and returns its token. */
  async refreshGuest() {
    const body = await this.authStatus();
    if (body.auth_configured !== false) throw new LoginRequired("auth-configured");
    if (!body.access_token) throw new Error("no guest token in the answer");
    return body.access_token;
  }

  /**
   * login signs in with a username and password and stores the token. It
   * throws an Error with the server's message when the login fails.
   */
  async login(username, password) {
    const res = await this.#fetch(this.url(this.loginPath), {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ username, password }),
      credentials: "omit",
      cache: "no-store",
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok || !body.access_token) {
      throw new Error(body.message || `login failed (${res.status})`);
    }
    this.store(body.access_token, "login");
    return decodeJWT(body.access_token);
  }

  // send sends one request to url, which url() resolved and checked.
  async #send(url, init, token) {
    const headers = new Headers(init.headers);
    if (token) headers.set("Authorization", `Bearer ${token}`);
    if (!headers.has("Accept")) headers.set("Accept", "application/json");
    const res = await this.#fetch(url, { credentials: "omit", ...init, headers });
    const renewed = res.ok ? res.headers.get(NEW_TOKEN_HEADER) : null;
    if (renewed) this.#adopt(renewed);
    return res;
  }

  // retry sends the request a second and last time; a second 401 for the
  // token that is still stored ends the session (a background request of a
  // guest only reports it, as its first 401 would).
  async #retry(url, init, token, opts) {
    const res = await this.#send(url, init, token);
    if (res.status === 401 && this.token === token) {
      if (opts.background && this.isGuest(token)) this.onExpired("expired");
      else this.#loginRequired("rejected");
    }
    return res;
  }

  // adopt stores a renewed token, unless it belongs to another session than
  // the stored one (a late response from before a logout or a user switch).
  #adopt(token) {
    const current = this.claims;
    const next = decodeJWT(token);
    if (!sameSession(current, next)) {
      this.onIgnored(token, next, current);
      return;
    }
    if (token !== this.token) this.store(token, "renewed");
  }

  #loginRequired(reason) {
    this.clear();
    this.onLoginRequired(reason);
  }
}

/** The response header with the session's expiry (Unix seconds) in cookie delivery. */
export const SESSION_EXPIRES_HEADER = "X-Session-Expires";

/**
 * CookieClient is the client of an API in cookie delivery
 * (TOKEN_DELIVERY=cookie): the token lives in an HttpOnly cookie that
 * script cannot read, so nothing is kept in storage and no Authorization
 * header is sent; requests go with credentials. The session's facts
 * (claims) come from mePath after a sign-in, and its expiry from the
 * X-Session-Expires header of every authenticated response: a later
 * expiry there is a renewal. It has the TokenClient's methods and
 * callbacks (onToken gets null for the token), and its options, but for
 * storage and storageKey, plus:
 *   mePath   the route that answers the session's claims (default "/api/me")
 * token is always null: script never holds the token. claims is null
 * while no session is known.
 */
export class CookieClient {
  #fetch;
  #session = null;
  #refreshing = null;

  constructor(options = {}) {
    this.baseURL = (options.baseURL ?? "").replace(/\/+$/, "");
    this.authStatusPath = options.authStatusPath ?? "/auth-status";
    this.loginPath = options.loginPath ?? "/login";
    this.mePath = options.mePath ?? "/api/me";
    this.guest = options.guest ?? null;
    const f = options.fetch ?? globalThis.fetch;
    this.#fetch = (...args) => f.apply(globalThis, args);
    const noop = () => {};
    this.onToken = options.onToken ?? noop;
    this.onIgnored = options.onIgnored ?? noop;
    this.onExpired = options.onExpired ?? noop;
    this.onLoginRequired = options.onLoginRequired ?? noop;
  }

  /** token is null: in cookie delivery script never holds the token. */
  get token() {
    return null;
  }

  /** claims are the session's claims as mePath answered them (exp kept current), or null. */
  get claims() {
    return this.#session;
  }

  /** url: see TokenClient.url. */
  url(path) {
    return TokenClient.prototype.url.call(this, path);
  }

  /** isGuest reports whether the session is a guest's. */
  isGuest() {
    return this.#session ? isGuestClaims(this.#session) : this.guest === true;
  }

  /** clear forgets the session here (the server's sign-out deletes the cookie). */
  clear() {
    this.#session = null;
  }

  /**
   * resume looks for a session the cookie already holds (a reload) and
   * reports whether there is one.
   */
  async resume() {
    try {
      await this.#loadSession("resumed");
      return true;
    } catch {
      return false;
    }
  }

  /** fetch: see TokenClient.fetch; the cookie goes with the request. */
  async fetch(path, init = {}, opts = {}) {
    const url = this.url(path);
    const res = await this.#send(url, init);
    if (res.status !== 401 || !this.#session) return res;
    if (!this.isGuest()) {
      this.#loginRequired("expired");
      return res;
    }
    if (opts.background) {
      this.onExpired("expired");
      return res;
    }
    try {
      await this.refreshGuest();
    } catch (err) {
      this.#loginRequired(err instanceof LoginRequired ? err.reason : "refresh-failed");
      return res;
    }
    const again = await this.#send(url, init);
    if (again.status === 401) this.#loginRequired("rejected");
    return again;
  }

  /**
   * authStatus asks the server whether logins are configured; in guest
   * mode it then starts a guest session (a POST to loginPath, which sets
   * the cookie). Concurrent calls share one request.
   */
  authStatus() {
    if (!this.#refreshing) {
      this.#refreshing = (async () => {
        const res = await this.#fetch(this.url(this.authStatusPath), {
          headers: { Accept: "application/json" },
          credentials: "include",
          cache: "no-store",
        });
        if (!res.ok) throw new Error(`${this.authStatusPath} answered ${res.status}`);
        const body = await res.json();
        this.guest = body.auth_configured === false;
        if (this.guest) await this.#signIn(undefined, "guest");
        return body;
      })().finally(() => {
        this.#refreshing = null;
      });
    }
    return this.#refreshing;
  }

  /** refreshGuest starts a new guest session. */
  async refreshGuest() {
    const body = await this.authStatus();
    if (body.auth_configured !== false) throw new LoginRequired("auth-configured");
  }

  /** login signs in; the answer sets the cookie. It returns the session's claims. */
  async login(username, password) {
    await this.#signIn({ username, password }, "login");
    return this.#session;
  }

  // signIn POSTs to loginPath (credentials in the body when given) and
  // then reads the session. A 409 means a valid session cookie is there
  // already (a guest session is never put over it): that one is read.
  async #signIn(credentials, reason) {
    const res = await this.#fetch(this.url(this.loginPath), {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(credentials ?? {}),
      credentials: "include",
      cache: "no-store",
    });
    if (!res.ok && res.status !== 409) {
      const body = await res.json().catch(() => ({}));
      throw new Error(body.message || `login failed (${res.status})`);
    }
    await this.#loadSession(res.status === 409 ? "resumed" : reason);
  }

  async #loadSession(reason) {
    const res = await this.#fetch(this.url(this.mePath), {
      headers: { Accept: "application/json" },
      credentials: "include",
      cache: "no-store",
    });
    if (!res.ok) throw new Error(`${this.mePath} answered ${res.status}`);
    const claims = await res.json();
    this.#session = claims;
    this.onToken(null, claims, reason);
  }

  async #send(url, init) {
    const headers = new Headers(init.headers);
    if (!headers.has("Accept")) headers.set("Accept", "application/json");
    const res = await this.#fetch(url, { ...init, headers, credentials: "include" });
    const exp = Number(res.headers.get(SESSION_EXPIRES_HEADER));
    const current = this.#session;
    if (res.ok && current && Number.isFinite(exp) && exp > (current.exp ?? 0)) {
      // A renewal: the new token keeps the session's lifetime.
      const lifetime = typeof current.iat === "number" ? current.exp - current.iat : 0;
      this.#session = { ...current, exp, iat: lifetime ? exp - lifetime : current.iat };
      this.onToken(null, this.#session, "renewed");
    }
    return res;
  }

  #loginRequired(reason) {
    this.clear();
    this.onLoginRequired(reason);
  }
}

/** createCookieClient returns a CookieClient; see its options. */
export function createCookieClient(options) {
  return new CookieClient(options);
}

/** createClient returns a TokenClient; see its options. */
export function createClient(options) {
  return new TokenClient(options);
}
