// Tabs kept in step, in Node: each "tab" is a client of its own; they talk
// on a BroadcastChannel (Node has one) as the tabs of one origin do. The
// same in real browser tabs is left to the demo's browser tests.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";

import { createClient, memoryStorage, renewalVerdict } from "../client.js";
import {
  ACCOUNTS,
  cleanupBuild,
  goMissing,
  RENEWING,
  guestToken,
  login,
  nextEvent,
  revoke,
  startDemo,
  startProxy,
  untilRenewable,
} from "./support.js";

const accounts = Object.entries(ACCOUNTS).map(([u, p]) => `${u}:${p}`).join(",");
const skip = await goMissing();

// tabs makes n clients of baseURL that keep in step on a channel of their
// own; shared: they share one storage, as tabs share localStorage.
function tabs(n, baseURL, { shared = false, locks } = {}) {
  const channelName = `test:${randomUUID()}`;
  const storage = shared ? memoryStorage() : null;
  const out = Array.from({ length: n }, () => {
    const own = storage ?? memoryStorage();
    const client = createClient({ baseURL, storage: own, sync: true, channelName, locks });
    client.storage = own; // for the test to change behind the client's back
    return client;
  });
  after(() => out.forEach((c) => c.close()));
  return out;
}

// lockManager is a stand-in for navigator.locks (which Node 20 lacks) with
// what the client uses of the Web Locks API: request(name, options,
// callback) with an exclusive or shared mode and an abort signal, granted
// in the order asked, each held until the callback's promise settles; and
// query(), the locks held and asked for.
function lockManager() {
  const locks = new Map(); // name -> { held: [{ mode }], queue: [request] }
  const of = (name) => locks.get(name) ?? locks.set(name, { held: [], queue: [] }).get(name);
  const grant = (name) => {
    const l = of(name);
    while (l.queue.length > 0) {
      const r = l.queue[0];
      const free = l.held.length === 0 || (r.mode === "shared" && l.held.every((h) => h.mode === "shared"));
      if (!free) return;
      l.queue.shift();
      r.signal?.removeEventListener("abort", r.abort);
      const h = { mode: r.mode };
      l.held.push(h);
      Promise.resolve()
        .then(() => r.callback({ name, mode: r.mode }))
        .then(r.resolve, r.reject)
        .finally(() => {
          l.held.splice(l.held.indexOf(h), 1);
          grant(name);
        });
    }
  };
  return {
    request(name, options, callback) {
      return new Promise((resolve, reject) => {
        const r = { mode: options?.mode ?? "exclusive", signal: options?.signal, callback, resolve, reject };
        if (r.signal?.aborted) return reject(r.signal.reason);
        r.abort = () => {
          const q = of(name).queue;
          if (q.includes(r)) q.splice(q.indexOf(r), 1);
          reject(r.signal.reason);
          grant(name);
        };
        r.signal?.addEventListener("abort", r.abort);
        of(name).queue.push(r);
        grant(name);
      });
    },
    async query() {
      const list = (pick) => [...locks].flatMap(([name, l]) => pick(l).map((x) => ({ name, mode: x.mode })));
      return { held: list((l) => l.held), pending: list((l) => l.queue) };
    },
  };
}

describe("tabs in login mode", { skip }, () => {
  let demo;
  before(async () => {
    demo = await startDemo({
      AUTH_ACCOUNTS: accounts,
      ...RENEWING,
    });
  });
  after(async () => {
    await demo?.stop();
  });

  it("a login and a renewal in one tab reach the other at once", async () => {
    const [a, b] = tabs(2, demo.url);
    const gotLogin = nextEvent(b, "token");
    await a.login("alice", ACCOUNTS.alice);
    const login = await gotLogin;
    assert.equal(login.reason, "login");
    assert.equal(login.fromOtherTab, true);
    assert.equal(b.token, a.token);

    const t1 = a.token;
    await untilRenewable(t1); // up to 1.5 s: the token must age
    const gotRenewal = nextEvent(b, "token");
    const res = await a("/api/me");
    assert.ok(res.headers.get("X-New-Token"), "the demo renewed");
    const renewal = await gotRenewal;
    assert.equal(renewal.reason, "renewed");
    assert.equal(renewal.fromOtherTab, true);
    assert.equal(b.token, a.token);
    assert.equal(renewalVerdict(t1, b.token), "ok");
    // b's next request goes with the renewed token.
    const me = await b("/api/me");
    assert.equal(me.status, 200);
  });

  it("a renewal from another tab is not taken over another session", async () => {
    const [a, b] = tabs(2, demo.url);
    await a.login("alice", ACCOUNTS.alice);
    await nextEvent(b, "token");
    // b's storage changes behind its back to bob's session (no message).
    const bob = await login(demo.url, "bob");
    b.storage.setItem("slidingjwt.token", bob);
    await untilRenewable(a.token); // up to 1.5 s: the token must age
    const ignored = nextEvent(b, "ignored");
    const res = await a("/api/me");
    assert.ok(res.headers.get("X-New-Token"), "the demo renewed");
    const ev = await ignored;
    assert.equal(ev.reason, "other-session");
    assert.equal(ev.claims.sub, "alice");
    assert.equal(b.token, bob);
  });

  it("a sign-out in one tab ends the session in all", async () => {
    const [a, b, c] = tabs(3, demo.url);
    await a.login("alice", ACCOUNTS.alice);
    await Promise.all([nextEvent(b, "token"), nextEvent(c, "token")]);
    const ends = [nextEvent(b, "sessionend"), nextEvent(c, "sessionend")];
    const out = await a.signOut();
    assert.deepEqual(out, { ok: true, status: 204 });
    for (const [tab, end] of [[b, await ends[0]], [c, await ends[1]]]) {
      assert.equal(end.reason, "signed-out");
      assert.equal(end.fromOtherTab, true);
      assert.equal(tab.token, null);
    }
  });

  it("tabs that share one storage hear of each other's renewals", async () => {
    const [a, b] = tabs(2, demo.url, { shared: true });
    await a.login("alice", ACCOUNTS.alice);
    await nextEvent(b, "token");
    const t1 = a.token;
    await untilRenewable(t1); // up to 1.5 s: the token must age
    const heard = nextEvent(b, "token");
    await a("/api/me");
    const ev = await heard;
    assert.equal(ev.reason, "renewed");
    assert.equal(ev.token, a.token);
    assert.notEqual(ev.token, t1);
  });
});

describe("tabs in guest mode", { skip }, () => {
  let demo;
  let proxy;
  before(async () => {
    demo = await startDemo({ ...RENEWING });
    proxy = await startProxy(demo.url);
  });
  after(async () => {
    await proxy?.stop();
    await demo?.stop();
  });

  // Tabs of one origin in separate processes each read a copy of
  // localStorage, which another tab's write reaches a moment after that tab
  // released the lock, in no order with the release: the last case gives
  // each tab a storage of its own, which the other's session reaches on the
  // channel (a message, after the lock's release). The lease needs the one
  // storage tabs share, so it has no such case.
  const cases = [
    ["with a lock manager (the Web Locks API's shape), sharing one storage", () => lockManager(), true, false],
    ["with the storage lease where there is no lock manager", () => undefined, true, !!globalThis.navigator?.locks && "this Node has navigator.locks, so the lease is not used"],
    ["with a lock manager, each tab with its own copy of the storage", () => lockManager(), false, false],
  ];
  for (const [name, locks, shared, skipCase] of cases) {
    it(`only one tab starts a guest session at a time, ${name}`, { skip: skipCase }, async () => {
      const [a, b] = tabs(2, proxy.url, { shared, locks: locks() });
      const g0 = await a.guestSession();
      await nextEvent(b, "token");
      assert.equal(b.token, g0);
      await revoke(demo.url, g0);
      const before = proxy.count("/auth-status");

      const calls = [];
      for (const tab of [a, b]) for (let i = 0; i < 3; i++) calls.push(tab(`/api/me?tab=${tab === a ? "a" : "b"}&n=${i}`));
      const results = await Promise.all(calls);
      assert.deepEqual(results.map((r) => r.status), Array(6).fill(200));
      assert.equal(proxy.count("/auth-status") - before, 1, "one guest session for both tabs");
      assert.equal(a.token, b.token);
      assert.notEqual(a.token, g0);
    });
  }

  it("a tab that finds another tab's mark waits for it to go before it asks for a session", { timeout: 20_000 }, async () => {
    const locks = lockManager();
    const [a] = tabs(1, proxy.url, { locks });
    const g0 = await a.guestSession();
    await revoke(demo.url, g0);
    const before = proxy.count("/auth-status");

    // A mark on another guest session, held by a "tab" that never answers
    // (one the test plays): the session it marks is not coming, so the tab
    // asks for a session only once the mark goes.
    const guestLock = [...(await locks.query()).held].find((l) => l.name.includes(":guest:made:")).name.split(":made:")[0];
    const markName = `${guestLock}:made:${encodeURIComponent("s:someone-else")}:test`;
    let letGo;
    const held = new Promise((r) => (letGo = r));
    await new Promise((taken) => locks.request(markName, { mode: "shared" }, () => (taken(), held)));

    // The test listens on the tabs' channel, as another tab would.
    const channel = new BroadcastChannel(guestLock.slice(0, -":guest".length));
    after(() => channel.close());
    const heard = [];
    let heardNext = () => {};
    channel.onmessage = (e) => {
      heard.push(e.data);
      heardNext();
    };
    const hear = (match) =>
      new Promise((resolve) => {
        const look = () => {
          const m = heard.find(match);
          if (m) resolve(m);
          else heardNext = look;
        };
        look();
      });

    let answered = false;
    const call = a("/api/me").finally(() => (answered = true));
    const waiting = async () => (await locks.query()).pending.some((l) => l.name === markName && l.mode === "exclusive");
    while (!answered && !(await waiting())) await new Promise((r) => setImmediate(r));
    assert.equal(answered, false, "the request was answered while the mark was held");
    assert.equal(proxy.count("/auth-status") - before, 0, "no guest session asked for while the mark is held");

    letGo();
    const res = await call;
    assert.equal(res.status, 200);
    assert.equal(proxy.count("/auth-status") - before, 1, "one guest session once the mark went");
    assert.notEqual(a.token, g0);

    // The tab asked for the marked session while it waited ...
    const ask = await hear((m) => m.kind === "ask" && m.marks?.includes(markName));
    // ... and a hand-off that comes once it no longer waits is dropped:
    // it must not replace the session the tab holds (a login, say).
    const mine = a.token;
    const stray = await guestToken(demo.url);
    const own = (await locks.query()).held.find((l) => l.name.includes(":guest:made:")).name;
    const replaced = nextEvent(a, "token").then(() => "replaced");
    channel.postMessage({ v: 1, kind: "handoff", to: ask.from, token: stray });
    // The tab reads messages in order: once it answers an ask for its own
    // mark, it has read the hand-off.
    channel.postMessage({ v: 1, kind: "ask", from: "the test", marks: [own] });
    const reply = hear((m) => m.kind === "handoff" && m.to === "the test");
    assert.equal(await Promise.race([replaced, reply.then(() => "kept")]), "kept", "a stray hand-off replaced the tab's session");
    assert.equal((await reply).token, mine, "the tab hands over the session it holds");
    assert.equal(a.token, mine);
  });
});

after(cleanupBuild);
