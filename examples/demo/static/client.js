// client.js: a dependency-free browser client for a slidingjwt API.
//
// It keeps the access token in localStorage, sends it as
// "Authorization: Bearer <token>", and picks up the renewed token a response
// carries in the X-New-Token header. On a 401 a guest session is replaced
// (one shared call to /auth-status, then the request is retried once); a
// password session goes back to the login page.
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
 * TokenClient wraps fetch for one API. Make one with createClient.
 *
 * Options (all optional):
 *   baseURL      the API origin (and path prefix), for a page served from
 *                another origin; default "" (the page's own origin)
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

  /** url resolves path against baseURL. Absolute URLs are used as they are. */
  url(path) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(path)) return path;
    return this.baseURL + (path.startsWith("/") ? path : "/" + path);
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
   * every request that fails at the same time) and retries once. A body
   * that is a stream cannot be sent twice; use a string, Blob or FormData.
   *
   * opts.background marks a request the user did not ask for, such as a
   * status poll: its 401 is reported through onExpired (guest) or
   * onLoginRequired (password) and never starts a new session, so an idle
   * page cannot keep itself signed in.
   */
  async fetch(path, init = {}, opts = {}) {
    const sent = this.token;
    const res = await this.#send(path, init, sent);
    if (res.status !== 401) return res;

    const current = this.token;
    if (current && current !== sent) {
      // The token changed while this request was out (renewed, replaced by
      // a new guest session, or another login), so this 401 says nothing
      // about the current session. Only a guest request that lost the race
      // with a guest refresh is retried, once, with the new token.
      if (opts.background || !this.isGuest(sent) || !this.isGuest(current)) return res;
      return this.#retry(path, init, current);
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
    return this.#retry(path, init, fresh);
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

  async #send(path, init, token) {
    const headers = new Headers(init.headers);
    if (token) headers.set("Authorization", `Bearer ${token}`);
    if (!headers.has("Accept")) headers.set("Accept", "application/json");
    const res = await this.#fetch(this.url(path), { credentials: "omit", ...init, headers });
    const renewed = res.ok ? res.headers.get(NEW_TOKEN_HEADER) : null;
    if (renewed) this.#adopt(renewed);
    return res;
  }

  // retry sends the request a second and last time; a second 401 for the
  // token that is still stored ends the session.
  async #retry(path, init, token) {
    const res = await this.#send(path, init, token);
    if (res.status === 401 && this.token === token) this.#loginRequired("rejected");
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

/** createClient returns a TokenClient; see its options. */
export function createClient(options) {
  return new TokenClient(options);
}
