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

// oneLockManager is a stand-in for navigator.locks (which Node 20 lacks)
// with the shape the client uses: request(name, options, callback) runs the
// callbacks for one name one after another.
function oneLockManager() {
  const tails = new Map();
  return {
    request(name, options, callback) {
      const run = (tails.get(name) ?? Promise.resolve()).then(() => callback());
      tails.set(name, run.catch(() => {}));
      return run;
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

  const variants = [
    ["with a lock manager (the Web Locks API's shape)", () => oneLockManager(), false],
    ["with the storage lease where there is no lock manager", () => undefined, !!globalThis.navigator?.locks && "this Node has navigator.locks, so the lease is not used"],
  ];
  for (const [name, locks, skipVariant] of variants) {
    it(`only one tab starts a guest session at a time, ${name}`, { skip: skipVariant }, async () => {
      const [a, b] = tabs(2, proxy.url, { shared: true, locks: locks() });
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
});

after(cleanupBuild);
