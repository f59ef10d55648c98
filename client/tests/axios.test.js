// The axios adapter, on the real axios package, against the real demo.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import axios from "axios";

import { BACKGROUND_HEADER, createClient, ForeignOriginError, renewalVerdict } from "../client.js";
import { attach } from "../axios.js";
import {
  ACCOUNTS,
  claims,
  cleanupBuild,
  goMissing,
  RENEWING,
  record,
  revoke,
  startDemo,
  startProxy,
  startServer,
  untilRenewable,
} from "./support.js";

const accounts = Object.entries(ACCOUNTS).map(([u, p]) => `${u}:${p}`).join(",");
const skip = await goMissing();

describe("attach", () => {
  it("refuses what is not an axios instance or a client", () => {
    const client = createClient({ baseURL: "http://127.0.0.1:1" });
    assert.throws(() => attach({}, client), /axios instance/);
    assert.throws(() => attach(axios.create(), {}), /createClient/);
  });

  it("detach removes the interceptors", async () => {
    const server = await startServer((req, res) => res.end("{}"));
    try {
      const client = createClient({ baseURL: server.url });
      client.setToken("a.b.c");
      const http = axios.create({ baseURL: server.url });
      const detach = attach(http, client);
      await http.get("/x");
      assert.equal(server.requests[0].headers.authorization, "Bearer a.b.c");
      detach();
      await http.get("/x");
      assert.equal(server.requests[1].headers.authorization, undefined);
    } finally {
      await server.stop();
    }
  });
});

describe("axios against the demo in login mode", { skip }, () => {
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

  it("sends the token and picks up a renewal", async () => {
    const client = createClient({ baseURL: demo.url });
    const http = axios.create();
    attach(http, client);
    const ev = record(client);
    await client.login("alice", ACCOUNTS.alice);
    const t1 = client.token;

    const me = await http.get("/api/me");
    assert.equal(me.data.sid, claims(t1).sid, "the server saw the stored token");
    await untilRenewable(t1); // up to 1.5 s: the token must age
    const renewed = await http.get("/api/me");
    assert.ok(renewed.headers["x-new-token"], "the demo renewed");
    assert.equal(client.token, renewed.headers["x-new-token"]);
    assert.equal(renewalVerdict(t1, client.token), "ok");
    assert.deepEqual(ev.token.map((e) => e.reason), ["login", "renewed"]);
  });

  it("refuses another origin, whether in the URL or in the instance's baseURL", async () => {
    const foreign = await startServer((req, res) => res.end("{}"));
    try {
      const client = createClient({ baseURL: demo.url });
      await client.login("alice", ACCOUNTS.alice);
      const http = axios.create({ baseURL: demo.url });
      attach(http, client);
      const elsewhere = axios.create({ baseURL: foreign.url });
      attach(elsewhere, client);
      const host = new URL(foreign.url).host;
      const refused = [
        () => http.get(`${foreign.url}/api/me`),
        () => http.get(`//${host}/api/me`),
        () => http.request({ url: "/api/me", baseURL: foreign.url }),
        () => elsewhere.get("/api/me"),
      ];
      for (const call of refused) {
        await assert.rejects(call(), (err) => {
          assert.ok(err instanceof ForeignOriginError, String(err));
          return true;
        });
      }
      assert.equal(foreign.requests.length, 0, "nothing reached the other origin");
      assert.equal((await http.get("/api/me")).status, 200, "the API's origin is fine");
    } finally {
      await foreign.stop();
    }
  });

  it("ends a password session on its 401 without a retry", async () => {
    const proxy = await startProxy(demo.url);
    try {
      const client = createClient({ baseURL: proxy.url });
      const http = axios.create({ baseURL: proxy.url });
      attach(http, client);
      await client.login("alice", ACCOUNTS.alice);
      await revoke(demo.url, client.token);
      const ev = record(client);
      await assert.rejects(http.get("/api/me"), (err) => {
        assert.equal(err.response?.status, 401);
        return true;
      });
      assert.equal(client.token, null);
      assert.equal(proxy.count("/api/me"), 1, "no retry");
      assert.equal(proxy.count("/auth-status"), 0);
      assert.deepEqual(ev.sessionend.map((e) => e.reason), ["rejected"]);
    } finally {
      await proxy.stop();
    }
  });

  it("a background request says so and never stores a renewal", async () => {
    let inject = null;
    const proxy = await startProxy(demo.url, {
      respond: (req, headers) => {
        if (inject) headers["x-new-token"] = inject;
      },
    });
    try {
      const client = createClient({ baseURL: proxy.url });
      const http = axios.create({ baseURL: proxy.url });
      attach(http, client);
      await client.login("alice", ACCOUNTS.alice);
      const t1 = client.token;
      await untilRenewable(t1); // up to 1.5 s: the token must age
      const direct = await fetch(`${demo.url}/api/me`, { headers: { Authorization: `Bearer ${t1}` } });
      inject = direct.headers.get("X-New-Token");
      assert.ok(inject, "the demo renewed");

      await http.get("/api/me", { background: true });
      assert.equal(proxy.requests.at(-1).headers[BACKGROUND_HEADER.toLowerCase()], "1");
      assert.equal(client.token, t1, "not stored from a background response");
      await http.get("/api/me");
      assert.equal(client.token, inject, "stored from a request the user made");
    } finally {
      await proxy.stop();
    }
  });
});

describe("axios against the demo in guest mode", { skip }, () => {
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

  it("concurrent 401s share one new guest session, and each request is retried once", async () => {
    const client = createClient({ baseURL: proxy.url });
    const http = axios.create({ baseURL: proxy.url });
    attach(http, client);
    const g0 = await client.guestSession();
    await revoke(demo.url, g0);
    const before = proxy.count("/auth-status");

    const N = 4;
    const results = await Promise.all(Array.from({ length: N }, (_, i) => http.get("/api/me", { params: { n: i } })));
    assert.deepEqual(results.map((r) => r.status), Array(N).fill(200));
    assert.equal(proxy.count("/auth-status") - before, 1, "one guest session for all of them");
    const g1 = client.token;
    assert.notEqual(g1, g0);
    for (let i = 0; i < N; i++) {
      const tries = proxy.requests.filter((r) => r.path === `/api/me?n=${i}`);
      assert.deepEqual(tries.map((r) => [r.headers.authorization, r.status]), [
        [`Bearer ${g0}`, 401],
        [`Bearer ${g1}`, 200],
      ], `request ${i}`);
    }
  });

  it("a 401 that validateStatus lets through gets the same treatment", async () => {
    const client = createClient({ baseURL: proxy.url });
    const http = axios.create({ baseURL: proxy.url, validateStatus: () => true });
    attach(http, client);
    const g0 = await client.guestSession();
    await revoke(demo.url, g0);
    const res = await http.get("/api/me", { params: { lenient: 1 } });
    assert.equal(res.status, 200);
    const g1 = client.token;
    assert.notEqual(g1, g0);
    const tries = proxy.requests.filter((r) => r.path === "/api/me?lenient=1");
    assert.deepEqual(tries.map((r) => [r.headers.authorization, r.status]), [
      [`Bearer ${g0}`, 401],
      [`Bearer ${g1}`, 200],
    ]);
  });

  it("a background 401 starts no guest session", async () => {
    const client = createClient({ baseURL: proxy.url });
    const http = axios.create({ baseURL: proxy.url });
    attach(http, client);
    const g0 = await client.guestSession();
    await revoke(demo.url, g0);
    const before = proxy.count("/auth-status");
    await assert.rejects(http.get("/api/me", { background: true }), (err) => err.response?.status === 401);
    assert.equal(proxy.count("/auth-status"), before);
    assert.equal(client.token, null);
  });
});

after(cleanupBuild);
