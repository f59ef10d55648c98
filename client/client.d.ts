// Type declarations of @slidingjwt/client (hand-written; the module is
// plain JavaScript).

/** The response header that carries a renewed token (the raw JWT). */
export declare const NEW_TOKEN_HEADER: "X-New-Token";

/**
 * The request header a background request carries (value "1"): the server
 * authenticates the request as usual but never renews its token.
 */
export declare const BACKGROUND_HEADER: "X-Slidingjwt-Background";

/**
 * The response header with the session's expiry in Unix seconds (cookie
 * delivery): a later value is a renewal. The server sends it on an answer
 * that sets the cookie (sign-in, renewal), and on another authenticated
 * answer only when the request asks with this header (any non-empty
 * value; the client sends "?" while it knows no expiry, and to mePath).
 */
export declare const SESSION_EXPIRES_HEADER: "X-Session-Expires";

/** The storage key of the token unless ClientOptions.storageKey says otherwise. */
export declare const DEFAULT_STORAGE_KEY: "slidingjwt.token";

/** The claims of a token as the client reads them (never verified here). */
export interface Claims {
  sub?: string;
  sid?: string;
  role?: string;
  exp?: number;
  iat?: number;
  auth_time?: number;
  jti?: string;
  metadata?: { auth_mode?: string; [key: string]: unknown };
  [claim: string]: unknown;
}

/**
 * Where the token is kept: the getItem/setItem/removeItem methods of the
 * Web Storage API, so localStorage and sessionStorage fit as they are. The
 * methods are called synchronously, on every request (so a token another
 * tab stored is used at once).
 */
export interface TokenStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * The part of the Web Locks API (navigator.locks) the client uses to let
 * one tab at a time start a guest session.
 */
export interface LockManagerLike {
  request<T>(name: string, options: { mode?: "exclusive" | "shared" }, callback: () => Promise<T> | T): Promise<T>;
}

/**
 * Why a session was stored: "set": the app called setToken; "resumed"
 * (cookie delivery): a session the cookie already held was found (resume(),
 * or the first answer that named its expiry), or a guest sign-in found a
 * session there.
 */
export type TokenReason = "login" | "guest" | "renewed" | "set" | "resumed";

/**
 * Why a renewed token was not stored: a background response's; no session
 * is stored; not a JWT; another session's (other sub, or other sid); it
 * does not expire after the stored one.
 */
export type IgnoredReason = "background" | "no-session" | "malformed" | "other-session" | "not-later";

/**
 * Why a session ended:
 * - "expired": a 401 for a token past its exp (by this machine's clock);
 * - "rejected": a 401 for a token not yet expired (signed out elsewhere,
 *   or not valid on this server), or a retry that got a 401 again;
 * - "login-required": a 401 for a request without a token, or the guest
 *   route answered that logins are required;
 * - "refresh-failed": the guest route failed (network, or not 2xx);
 * - "signed-out": signOut(), here or in another tab, or setToken(null).
 */
export type SessionEndReason = "expired" | "rejected" | "login-required" | "refresh-failed" | "signed-out";

export interface TokenEvent {
  /** The token; null in cookie delivery, where script never holds it. */
  token: string | null;
  /** Its claims; in cookie delivery those mePath answered (null without one). */
  claims: Claims | null;
  /** When the session expires now, or null when not known. */
  expiresAt: Date | null;
  reason: TokenReason;
  /** The token was stored by another tab (and announced on the channel). */
  fromOtherTab: boolean;
}

export interface IgnoredEvent {
  token: string;
  claims: Claims | null;
  reason: IgnoredReason;
}

export interface SessionEndEvent {
  reason: SessionEndReason;
  /** The 401 answered a background request (here, or in the other tab that reported it). */
  background: boolean;
  fromOtherTab: boolean;
  /** The token of the session that ended (null: none was sent). */
  token: string | null;
  claims: Claims | null;
  /** The HTTP status that ended it, when there was one. */
  status?: number;
}

export interface ClientEvents {
  token: TokenEvent;
  ignored: IgnoredEvent;
  sessionend: SessionEndEvent;
}

export interface ClientOptions {
  /**
   * The API: its origin, and a path prefix that relative paths are
   * appended to ("https://api.example.com/v1" + "/me"). Only this origin
   * is ever sent a request. In a browser page it may be "" or omitted (the
   * page's own origin) or relative to the page; elsewhere it must be
   * absolute.
   */
  baseURL?: string;
  /**
   * How the token travels, as the server's TOKEN_DELIVERY says:
   * "header" (default): the client keeps the token and sends it as
   * Authorization: Bearer, and takes renewals from X-New-Token;
   * "cookie": the token lives in the server's HttpOnly cookie, the client
   * keeps none, sends requests with credentials, and reads the expiry from
   * X-Session-Expires. (A server in "both" takes either.)
   */
  delivery?: "header" | "cookie";
  /**
   * Where the token is kept (header delivery; refused with "cookie").
   * Default: localStorage in a browser, else memory (per client).
   * "memory": memory even in a browser.
   */
  storage?: TokenStorage | "memory";
  /** The key of the token in storage. Default "slidingjwt.token". */
  storageKey?: string;
  /** The fetch to send requests with. Default globalThis.fetch. */
  fetch?: typeof fetch;
  /**
   * The route that hands out a guest session: GET, answering JSON with
   * access_token (and auth_configured: false), as LightRAG's and the
   * demo's /auth-status do. In cookie delivery it only says whether guests
   * are welcome (auth_configured: false), and a POST to guestSignInPath
   * signs one in. null: no guest sessions. Default "/auth-status".
   */
  guestPath?: string | null;
  /**
   * Cookie delivery: the route a guest is signed in by (a POST with no
   * credentials, which sets the cookie). Default: loginPath.
   */
  guestSignInPath?: string;
  /**
   * Cookie delivery: a route that answers the session's claims as JSON
   * (the demo's "/api/me"), asked after a sign-in and by resume(), as a
   * background request. Default null: the session is known by its expiry
   * alone (no subject, and guest only when a guest sign-in started it).
   */
  mePath?: string | null;
  /** The login route (POST, form fields username and password). Default "/login". */
  loginPath?: string;
  /** The sign-out route (POST with the token). Default "/api/logout". */
  signOutPath?: string;
  /** The route that signs out every session of the user. Default "/api/logout-all". */
  signOutAllPath?: string;
  /**
   * Whether the server is known to run in guest mode. A stored token's own
   * claims take precedence; without a token and without this hint a 401
   * asks the guest route once. Default: learnt from the server.
   */
  guest?: boolean;
  /** The background request header's name. Default "X-Slidingjwt-Background". */
  backgroundHeader?: string;
  /**
   * Keep the tabs of this origin in step (renewals, logins, sign-outs, one
   * guest re-authentication at a time). Default: true when the token is in
   * the browser's localStorage, or in cookie delivery in a browser (the
   * tabs share the cookie); else false.
   */
  sync?: boolean;
  /**
   * The BroadcastChannel name the tabs talk on. Default "slidingjwt:" +
   * storageKey, or "slidingjwt:cookie" in cookie delivery.
   */
  channelName?: string;
  /**
   * The lock manager for guest re-authentication across tabs. Default
   * navigator.locks; where it is missing and sync is on, a lease kept in
   * storage. null: no lock.
   */
  locks?: LockManagerLike | null;
  /** Called when a token is stored (also an event: "token"). */
  onToken?: (event: TokenEvent) => void;
  /** Called when a renewed token is not stored (also an event: "ignored"). */
  onIgnored?: (event: IgnoredEvent) => void;
  /** Called when the session ends (also an event: "sessionend"). */
  onSessionEnd?: (event: SessionEndEvent) => void;
}

/** The options of one request: fetch's, plus background. */
export interface ClientRequestInit extends RequestInit {
  /**
   * A request the user did not ask for (a poll): it carries the background
   * header, a renewal in its response is never stored, and its 401 never
   * starts a guest session. Setting the header yourself does the same.
   */
  background?: boolean;
}

/**
 * The session, read from the token's claims (header delivery), or from
 * what the client learnt of the cookie's session (cookie delivery: the
 * expiry from X-Session-Expires, the claims from mePath).
 */
export interface Session {
  /** The token; null in cookie delivery. */
  token: string | null;
  subject: string | null;
  sessionId: string | null;
  role: string | null;
  guest: boolean;
  expiresAt: Date | null;
  /** The claims; null in cookie delivery without mePath. */
  claims: Claims | null;
}

export interface SignOutResult {
  /** The token can no longer be used: the server confirmed (2xx) or already refused it (401). */
  ok: boolean;
  /** The sign-out route's status, or null (no token, or no answer). */
  status: number | null;
}

/**
 * A client: call it as fetch, for requests to its API.
 *
 * It rejects with ForeignOriginError, before anything is sent, when input
 * resolves to another origin than the API's. A renewal in the response is
 * stored when it is of the stored session and expires later. A 401 is
 * retried once when another request stored a renewal meanwhile, or, for a
 * guest, with a new guest session (one for all requests that failed
 * together); otherwise the session ends ("sessionend"). The Response is
 * the last one received, as fetch would give it.
 */
export interface SlidingClient {
  (input: string | URL | Request, init?: ClientRequestInit): Promise<Response>;

  /** The stored token, read from storage each time; null when none, and always in cookie delivery. */
  readonly token: string | null;
  /** The stored token's claims, or null. */
  readonly claims: Claims | null;
  /** The stored session, or null. */
  readonly session: Session | null;
  /** baseURL without trailing slashes. */
  readonly baseURL: string;
  /** The API's origin: the only one requests go to. */
  readonly origin: string;
  readonly delivery: "header" | "cookie";
  readonly backgroundHeader: string;

  /** Signs in (POST loginPath, a form), stores the token, resolves to its claims; rejects with LoginError. */
  login(username: string, password: string): Promise<Claims | null>;
  /**
   * Stores a token the app obtained itself; null forgets the session (ends
   * it as "signed-out"). Cookie delivery takes only null (throws TypeError).
   */
  setToken(token: string | null): void;
  /**
   * The session there already is, for a page that just loaded: the stored
   * one (header delivery), or, in cookie delivery, what mePath answers for
   * the cookie (null when it holds none; without mePath, what is known).
   */
  resume(): Promise<Session | null>;
  /**
   * Starts a new guest session (GET guestPath), shared with a start
   * already under way here or, through the lock, in another tab. Resolves
   * to the token, or null when the server requires a login.
   */
  guestSession(): Promise<string | null>;
  /**
   * Asks the server to end the session (signOutPath; signOutAllPath with
   * all), then forgets it, here and in the other tabs, whatever the answer.
   */
  signOut(options?: { all?: boolean }): Promise<SignOutResult>;

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends keyof ClientEvents>(type: K, listener: (event: ClientEvents[K]) => void): () => void;
  off<K extends keyof ClientEvents>(type: K, listener: (event: ClientEvents[K]) => void): void;
  /** Closes the tab channel and drops the listeners. */
  close(): void;

  // For adapters (the axios one uses these):

  /** The absolute URL of input on the API; throws ForeignOriginError. */
  resolve(input: string | URL | Request): string;
  /**
   * What a request is sent with now: the token (header delivery), or an
   * opaque value standing for the cookie's session (cookie delivery); null
   * when there is no session. Keep it with the request for observe and
   * handleUnauthorized.
   */
  current(): SentWith;
  /**
   * Whether a request sent with sent asks the server for the session's
   * expiry, with the SESSION_EXPIRES_HEADER request header set to "?":
   * in cookie delivery, while no expiry of the session is known; never in
   * header delivery.
   */
  asksExpiry(sent: SentWith): boolean;
  /** Offers a renewed token (header delivery); stores it and returns true when it qualifies. */
  offerToken(token: string, options?: { background?: boolean }): boolean;
  /**
   * Takes what a response (status, and get(name) for its headers) says of
   * the session: a renewal in X-New-Token, or a new expiry in
   * X-Session-Expires. sent: current() when the request left.
   */
  observe(status: number, get: (name: string) => string | null, options?: { background?: boolean; sent?: SentWith }): void;
  /**
   * Decides what follows a 401 for a request sent with sent (current()
   * when it left). Resolves to what to send the request again with, once
   * (the token; in cookie delivery the cookie goes by itself), or null when
   * the 401 stands (the session end already reported when it is over).
   * retried: the 401 answered the second attempt.
   */
  handleUnauthorized(sent: SentWith, options?: { background?: boolean; retried?: boolean }): Promise<SentWith>;
}

/**
 * What a request was sent with: a token (header delivery), an opaque
 * object (cookie delivery), or null.
 */
export type SentWith = string | object | null;

/** Makes a client for one API. Throws TypeError on a bad option. */
export declare function createClient(options?: ClientOptions): SlidingClient;

/** A storage that keeps values in memory, in this process only. */
export declare function memoryStorage(): TokenStorage;

/** The claims of a JWT, unverified, or null when token is not one. */
export declare function decodeJWT(token: string | null | undefined): Claims | null;
/** The bytes of base64url text (padding optional); throws TypeError on other text. */
export declare function decodeBase64Url(text: string): Uint8Array;
/** Whether claims are a guest session's (role "guest", or metadata.auth_mode "disabled"). */
export declare function isGuestClaims(claims: Claims | null | undefined): boolean;
/** Whether two sets of claims are one session: same sub, and same sid when both have one. */
export declare function sameSession(a: Claims | null | undefined, b: Claims | null | undefined): boolean;
/** Whether next may replace current as its renewal: "ok", or why not. */
export declare function renewalVerdict(current: string | null, next: string): "ok" | Exclude<IgnoredReason, "background">;

/** The error of a request to another origin than the API's; nothing was sent. */
export declare class ForeignOriginError extends Error {
  readonly name: "ForeignOriginError";
  readonly code: "SLIDINGJWT_FOREIGN_ORIGIN";
  /** The URL the request resolved to. */
  readonly url: string;
  /** The API's origin. */
  readonly origin: string;
  constructor(input: unknown, url: string, origin: string);
}

/** The error of a refused login. */
export declare class LoginError extends Error {
  readonly name: "LoginError";
  readonly code: "SLIDINGJWT_LOGIN_FAILED";
  readonly status: number;
  constructor(status: number, message?: string);
}
