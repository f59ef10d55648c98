// Cookie delivery: the client against the real demo started with
// TOKEN_DELIVERY=cookie. Node's fetch keeps no cookies, so each "browser"
// here is a cookieJar (support.js) whose fetch the client is given: it
// sends the cookies it holds and keeps what Set-Cookie says, as a browser
// does with credentials "include".

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";

import axios from "axios";

import { BACKGROUND_HEADER, createClient, ForeignOriginError, SESSION_EXPIRES_HEADER } from "../client.js";
import { attach } from "../axios.js";
import {
  ACCOUNTS,
  COOKIE,
  cookieJar,
  goMissing,
  hours,
  RENEWING,
  nextEvent,
  record,
  sleep,
  startDemo,
  startProxy,
  startServer,
  untilRenewable,
} from "./support.js";

// ASK is how the proxy sees the request header that asks for the expiry.
const ASK = SESSION_EXPIRES_HEADER.toLowerCase();

const accounts = Object.entries(ACCOUNTS).map(([u, p]) => `${u}:${p}`).join(",");
const skip = await goMissing();

// cookieClient makes a cookie-delivery client of baseURL on a jar of its
// own (or the one given), reading the claims from /api/me.
function cookieClient(baseURL, { jar = cookieJar(), ...options } = {}) {
  const api = createClient({ baseURL, delivery: "cookie", mePath: "/api/me", fetch: (req) => jar.fetch(req), ...options });
  api.jar = jar;
  return api;
}

describe("cookie delivery: options", () => {
  it("keeps no token and takes no storage", () => {
    const api = createClient({ baseURL: "http://127.0.0.1:1", delivery: "cookie" });
    assert.equal(api.delivery, "cookie");
    assert.equal(api.token, null);
    assert.equal(api.session, null);
    assert.throws(() => api.setToken("a.b.c"), /only null/);
    assert.throws(() => createClient({ baseURL: "http://127.0.0.1:1", delivery: "cookie", storage: "memory" }), /no use/);
    assert.throws(() => createClient({ baseURL: "http://127.0.0.1:1", delivery: "smoke" }), /"header" or "cookie"/);
  });
});

describe("cookie delivery against the demo in login mode", { skip }, () => {
  let demo;
  before(async () => {
    demo = await startDemo({ AUTH_ACCOUNTS: accounts, TOKEN_DELIVERY: "cookie", ...RENEWING });
  });
  after(async () => {
    await demo?.stop();
  });

  it("signs in by the cookie, sends no token, and takes a renewal from X-Session-Expires", async () => {
    const proxy = await startProxy(demo.url);
    try {
      const api = cookieClient(proxy.url);
      const ev = record(api);
      const claims = await api.login("alice", ACCOUNTS.alice);
      assert.equal(claims.sub, "alice", "the claims come from /api/me");
      assert.equal(api.token, null, "script holds no token");
      const cookie = api.jar.cookies.get(COOKIE);
      assert.ok(cookie, "the login set the session cookie");
      const first = api.session;
      assert.equal(first.subject, "alice");
      assert.equal(first.guest, false);
      assert.equal(first.expiresAt.getTime(), claims.exp * 1000);
      assert.deepEqual(ev.token.map((e) => [e.reason, e.token]), [["login", null]]);

      const me = await api("/api/me");
      assert.equal(me.status, 200);
      const sent = proxy.requests.at(-1).headers;
      assert.equal(sent.authorization, undefined, "no Authorization header");
      assert.match(sent.cookie, new RegExp(`${COOKIE}=`), "the cookie went along");

      await untilRenewable(claims); // up to 1.5 s: the token must age
      const renewed = await api("/api/me");
      assert.equal(renewed.status, 200);
      const exp = Number(renewed.headers.get(SESSION_EXPIRES_HEADER));
      assert.ok(exp > claims.exp, "the demo renewed");
      assert.notEqual(api.jar.cookies.get(COOKIE), cookie, "the cookie was replaced");
      assert.equal(api.session.expiresAt.getTime(), exp * 1000, "the expiry is the renewal's");
      assert.equal(api.session.subject, "alice");
      assert.deepEqual(ev.token.map((e) => e.reason), ["login", "renewed"]);
      assert.equal(ev.token[1].expiresAt.getTime(), exp * 1000);
    } finally {
      await proxy.stop();
    }
  });

  it("asks for the expiry only while it knows none: after a sign-in its requests do not, and get none", async () => {
    const proxy = await startProxy(demo.url);
    try {
      const api = cookieClient(proxy.url);
      const claims = await api.login("alice", ACCOUNTS.alice);
      const signIn = proxy.requests.find((r) => r.path === "/login");
      assert.equal(signIn.headers[ASK], undefined, "a sign-in's answer names the expiry unasked");
      const me = proxy.requests.find((r) => r.path === "/api/me");
      assert.equal(me.headers[ASK], "?", "the claims' request (mePath) asks");
      assert.equal(api.session.expiresAt.getTime(), claims.exp * 1000);

      const plain = await api("/api/me");
      assert.equal(plain.status, 200);
      assert.equal(proxy.requests.at(-1).headers[ASK], undefined, "a request with a known expiry does not ask");
      assert.equal(plain.headers.get(SESSION_EXPIRES_HEADER), null, "and the server sends none");
      assert.equal(api.session.expiresAt.getTime(), claims.exp * 1000, "the expiry stays");

      // A page loaded again without mePath knows no session: its first
      // request asks and learns the expiry; the next one does not ask.
      const again = cookieClient(proxy.url, { jar: api.jar, mePath: null });
      const ev = record(again);
      const first = await again("/api/status");
      assert.equal(first.status, 200);
      assert.equal(proxy.requests.at(-1).headers[ASK], "?", "a request with no known expiry asks");
      assert.equal(Number(first.headers.get(SESSION_EXPIRES_HEADER)), claims.exp, "and is told");
      assert.equal(again.session.expiresAt.getTime(), claims.exp * 1000);
      assert.deepEqual(ev.token.map((e) => e.reason), ["resumed"]);
      await again("/api/status");
      assert.equal(proxy.requests.at(-1).headers[ASK], undefined, "once known, it no longer asks");
    } finally {
      await proxy.stop();
    }
  });

  it("a background request says so, is not renewed, and a renewal's absence changes nothing", async () => {
    const proxy = await startProxy(demo.url);
    try {
      const api = cookieClient(proxy.url);
      const claims = await api.login("alice", ACCOUNTS.alice);
      const cookie = api.jar.cookies.get(COOKIE);
      await untilRenewable(claims);
      const ev = record(api);
      const poll = await api("/api/status", { background: true });
      assert.equal(poll.status, 200);
      assert.equal(proxy.requests.at(-1).headers[BACKGROUND_HEADER.toLowerCase()], "1");
      assert.equal(poll.headers.get(SESSION_EXPIRES_HEADER), null, "not renewed (and not asked)");
      assert.equal(api.jar.cookies.get(COOKIE), cookie);
      assert.equal(api.session.expiresAt.getTime(), claims.exp * 1000);
      assert.equal(ev.token.length, 0);
    } finally {
      await proxy.stop();
    }
  });

  it("a session signed out elsewhere ends on its 401, with no retry and no guest session", async () => {
    const proxy = await startProxy(demo.url);
    try {
      const api = cookieClient(proxy.url);
      await api.login("alice", ACCOUNTS.alice);
      // A copy of the cookie signs the session out (another device).
      const copy = await fetch(`${demo.url}/api/logout`, { method: "POST", headers: { Cookie: api.jar.header() } });
      assert.equal(copy.status, 204);
      const ev = record(api);
      const res = await api("/api/me");
      assert.equal(res.status, 401);
      assert.equal(api.session, null, "the session is forgotten");
      assert.equal(proxy.count("/api/me", "GET"), 2, "no retry (the other one is the login's claims)");
      assert.equal(proxy.count("/auth-status"), 0, "no guest session for a password user");
      assert.deepEqual(ev.sessionend.map((e) => [e.reason, e.claims.sub, e.token]), [["rejected", "alice", null]]);
      assert.equal(api.jar.cookies.get(COOKIE), undefined, "the server deleted the revoked cookie");
    } finally {
      await proxy.stop();
    }
  });

  it("signOut posts the sign-out route with the cookie; the server deletes it; the old value is refused", async () => {
    const proxy = await startProxy(demo.url);
    try {
      const api = cookieClient(proxy.url);
      await api.login("alice", ACCOUNTS.alice);
      const old = api.jar.header();
      const ev = record(api);
      const out = await api.signOut();
      assert.deepEqual(out, { ok: true, status: 204 });
      const post = proxy.requests.find((r) => r.path === "/api/logout");
      assert.match(post.headers.cookie, new RegExp(`${COOKIE}=`));
      assert.equal(post.headers.authorization, undefined);
      assert.equal(post.headers[BACKGROUND_HEADER.toLowerCase()], "1");
      assert.equal(api.jar.cookies.size, 0, "the cookie is deleted");
      assert.equal(api.session, null);
      assert.deepEqual(ev.sessionend.map((e) => e.reason), ["signed-out"]);
      const replay = await fetch(`${demo.url}/api/me`, { headers: { Cookie: old } });
      assert.equal(replay.status, 401, "the old cookie value is dead on the server");
    } finally {
      await proxy.stop();
    }
  });

  it("an answer that comes back after signOut restores nothing", async () => {
    let release;
    const released = new Promise((r) => {
      release = r;
    });
    const proxy = await startProxy(demo.url, {
      holdResponse: (req) => (req.path === "/api/me?slow" ? released : undefined),
    });
    try {
      const api = cookieClient(proxy.url);
      await api.login("alice", ACCOUNTS.alice);
      // It asks for the expiry, so that its late answer names one.
      const slow = api("/api/me?slow", { headers: { [SESSION_EXPIRES_HEADER]: "?" } });
      while (!proxy.requests.some((r) => r.path === "/api/me?slow" && r.status !== null)) await sleep(5);
      await api.signOut();
      release();
      const res = await slow;
      assert.equal(res.status, 200);
      assert.ok(res.headers.get(SESSION_EXPIRES_HEADER), "the late answer names an expiry");
      assert.equal(api.session, null, "it does not bring the session back");
    } finally {
      release();
      await proxy.stop();
    }
  });

  it("resume finds the session the cookie holds (a page loaded again)", async () => {
    const jar = cookieJar();
    const first = cookieClient(demo.url, { jar });
    await first.login("bob", ACCOUNTS.bob);
    const again = cookieClient(demo.url, { jar });
    assert.equal(again.session, null, "nothing known before it asks");
    const session = await again.resume();
    assert.equal(session.subject, "bob");
    assert.equal(session.expiresAt.getTime(), first.session.expiresAt.getTime());
    const none = cookieClient(demo.url);
    assert.equal(await none.resume(), null, "no cookie, no session");
  });

  it("refuses a URL on another origin before sending anything", async () => {
    const foreign = await startServer((req, res) => res.end("ok"));
    try {
      const api = cookieClient(demo.url);
      await api.login("alice", ACCOUNTS.alice);
      for (const input of [`${foreign.url}/api/me`, new URL("/x", foreign.url), new Request(`${foreign.url}/y`)]) {
        await assert.rejects(api(input), ForeignOriginError);
      }
      assert.equal(foreign.requests.length, 0, "nothing reached the other origin: the cookie never left");
    } finally {
      await foreign.stop();
    }
  });

  it("axios: withCredentials, no token, and the renewal picked up", async () => {
    const proxy = await startProxy(demo.url);
    try {
      const api = cookieClient(proxy.url);
      // axios on the fetch adapter, through the jar, as in a browser.
      const http = axios.create({ adapter: "fetch", env: { fetch: (req, init) => api.jar.fetch(req, init) } });
      attach(http, api);
      const ev = record(api);
      const claims = await api.login("alice", ACCOUNTS.alice);
      const me = await http.get("/api/me");
      assert.equal(me.data.sub, "alice");
      assert.equal(me.config.withCredentials, true);
      assert.equal(proxy.requests.at(-1).headers.authorization, undefined);
      assert.equal(proxy.requests.at(-1).headers[ASK], undefined, "a known expiry: no ask");
      // A client that knows no session yet asks through axios too.
      const fresh = cookieClient(proxy.url, { jar: api.jar, mePath: null });
      const freshHttp = axios.create({ adapter: "fetch", env: { fetch: (req, init) => api.jar.fetch(req, init) } });
      attach(freshHttp, fresh);
      await freshHttp.get("/api/me");
      assert.equal(proxy.requests.at(-1).headers[ASK], "?", "no known expiry: it asks");
      assert.equal(fresh.session.expiresAt.getTime(), claims.exp * 1000);
      await freshHttp.get("/api/me");
      assert.equal(proxy.requests.at(-1).headers[ASK], undefined, "then it does not");
      await untilRenewable(claims);
      const renewed = await http.get("/api/me");
      const exp = Number(renewed.headers[SESSION_EXPIRES_HEADER.toLowerCase()]);
      assert.ok(exp > claims.exp, "the demo renewed");
      assert.equal(api.session.expiresAt.getTime(), exp * 1000);
      assert.deepEqual(ev.token.map((e) => e.reason), ["login", "renewed"]);
      await assert.rejects(http.get("http://127.0.0.1:1/x"), ForeignOriginError);
    } finally {
      await proxy.stop();
    }
  });
});

describe("cookie delivery: a 401 after another request renewed the session", { skip }, () => {
  // As in header delivery: a 4-second token, the request that fails
  // reaches the server after its cookie's token expired, the renewal is
  // still valid then.
  let demo;
  before(async () => {
    demo = await startDemo({ AUTH_ACCOUNTS: accounts, TOKEN_DELIVERY: "cookie", TOKEN_EXPIRE_HOURS: hours(4), TOKEN_RENEW_THRESHOLD: "0.9" });
  });
  after(async () => {
    await demo?.stop();
  });

  it("is retried once, with the renewed cookie", async () => {
    let release;
    const released = new Promise((r) => {
      release = r;
    });
    let arrived;
    const arrival = new Promise((r) => {
      arrived = r;
    });
    const proxy = await startProxy(demo.url, {
      hold: (req) => {
        if (req.path !== "/api/me?slow" || proxy.count("/api/me?slow") > 1) return undefined;
        arrived();
        return released;
      },
    });
    try {
      const api = cookieClient(proxy.url);
      const ev = record(api);
      const claims = await api.login("alice", ACCOUNTS.alice);
      const c1 = api.jar.cookies.get(COOKIE);
      const slow = api("/api/me?slow"); // leaves with c1, held
      await arrival;
      await sleep(Math.max(0, (claims.iat + 2) * 1000 + 50 - Date.now()));
      assert.equal((await api("/api/me")).status, 200);
      const c2 = api.jar.cookies.get(COOKIE);
      assert.notEqual(c2, c1, "the second request renewed");
      await sleep(Math.max(0, claims.exp * 1000 + 50 - Date.now()));

      release();
      const res = await slow;
      assert.equal(res.status, 200, "the retry with the renewed cookie passed");
      const tries = proxy.requests.filter((r) => r.path === "/api/me?slow");
      assert.deepEqual(tries.map((r) => [r.headers.cookie, r.status]), [
        [`${COOKIE}=${c1}`, 401],
        [`${COOKIE}=${c2}`, 200],
      ]);
      assert.equal(ev.sessionend.length, 0, "the session did not end");
      assert.equal(proxy.count("/auth-status"), 0);
    } finally {
      release();
      await proxy.stop();
    }
  });
});

describe("cookie delivery against the demo in guest mode", { skip }, () => {
  let demo;
  before(async () => {
    demo = await startDemo({ TOKEN_DELIVERY: "cookie", ...RENEWING, GUEST_TOKEN_EXPIRE_HOURS: RENEWING.TOKEN_EXPIRE_HOURS });
  });
  after(async () => {
    await demo?.stop();
  });

  it("concurrent 401s share one guest sign-in (GET the guest route, POST the login route), each retried once", async () => {
    const proxy = await startProxy(demo.url);
    try {
      const api = cookieClient(proxy.url);
      const ev = record(api);
      const results = await Promise.all([api("/api/me"), api("/api/me"), api("/api/status")]);
      assert.deepEqual(results.map((r) => r.status), [200, 200, 200]);
      assert.equal(proxy.count("/auth-status", "GET"), 1, "one question to the guest route");
      assert.equal(proxy.count("/login", "POST"), 1, "one guest sign-in");
      assert.equal(proxy.count("/api/status"), 2, "a 401 and one retry");
      assert.equal(proxy.count("/api/me", "GET"), 5, "two 401s, two retries, and the new session's claims");
      assert.ok(api.jar.cookies.get(COOKIE), "the guest sign-in set the cookie");
      assert.equal(api.session.guest, true);
      assert.equal(api.session.role, "guest");
      assert.equal(ev.token.filter((e) => e.reason === "guest").length, 1);
      assert.equal(ev.sessionend.length, 0);
    } finally {
      await proxy.stop();
    }
  });

  it("a background 401 starts no guest session", async () => {
    const proxy = await startProxy(demo.url);
    try {
      const api = cookieClient(proxy.url);
      await api.guestSession();
      // The session is signed out behind the client's back.
      assert.equal((await fetch(`${demo.url}/api/logout`, { method: "POST", headers: { Cookie: api.jar.header() } })).status, 204);
      const ended = nextEvent(api, "sessionend");
      const poll = await api("/api/status", { background: true });
      assert.equal(poll.status, 401);
      const e = await ended;
      assert.equal(e.background, true);
      assert.equal(e.reason, "rejected");
      assert.equal(proxy.count("/login"), 1, "only the first guest sign-in");
      assert.equal(proxy.count("/auth-status"), 1);
      assert.equal(api.session, null);
    } finally {
      await proxy.stop();
    }
  });

  it("tabs sharing the cookie: a renewal in one reaches the other at once, a sign-out ends both", async () => {
    const jar = cookieJar();
    const channelName = `test:${randomUUID()}`;
    const [a, b] = [0, 1].map(() => cookieClient(demo.url, { jar, sync: true, channelName }));
    after(() => [a, b].forEach((c) => c.close()));
    const joined = nextEvent(b, "token");
    await a.guestSession();
    const j = await joined;
    assert.equal(j.fromOtherTab, true);
    assert.equal(j.reason, "guest");
    assert.equal(b.session.guest, true);
    assert.equal(b.session.expiresAt.getTime(), a.session.expiresAt.getTime());

    // Renew in tab a; the other hears the new expiry.
    const before = a.session.claims;
    await untilRenewable(before);
    const heard = nextEvent(b, "token", (e) => e.reason === "renewed");
    const res = await a("/api/me");
    const exp = Number(res.headers.get(SESSION_EXPIRES_HEADER));
    assert.ok(exp > before.exp, "tab a renewed");
    const r = await heard;
    assert.equal(r.fromOtherTab, true);
    assert.equal(b.session.expiresAt.getTime(), exp * 1000);

    const ended = nextEvent(b, "sessionend");
    assert.equal((await a.signOut()).ok, true);
    const e = await ended;
    assert.equal(e.fromOtherTab, true);
    assert.equal(e.reason, "signed-out");
    assert.equal(b.session, null);
    assert.equal(jar.cookies.size, 0);
  });
});
