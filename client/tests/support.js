// Test support: the real demo server (built from ../examples/demo), small
// Node HTTP servers in front of it (a proxy that records, holds or adds
// headers) and beside it (a foreign origin, a server that answers 503).
//
// SLIDINGJWT_DEMO_BIN names a demo binary built beforehand; without it the
// demo is built once per test process with `go build` (Go's build cache
// makes the builds after the first quick). Without Go the demo tests are
// skipped, unless SLIDINGJWT_REQUIRE_TOOLS is set (CI), where they fail.

import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const demoDir = path.resolve(here, "..", "..", "examples", "demo");

/** A secret long enough for HS256 in the demo's config. */
export const SECRET = "client-tests-secret-0123456789abcdef";

/** The accounts of the demo in login mode. */
export const ACCOUNTS = { alice: "alice-pw", bob: "bob-pw" };

/** seconds as the demo reads a lifetime: a float number of hours. */
export const hours = (seconds) => String(seconds / 3600);

/** The renewal threshold of RENEWING. */
export const THRESHOLD = 0.975;

/**
 * Settings under which a token becomes renewable 1.5 s after its iat (a
 * 60 s lifetime, renewed in the last 97.5% of it): a request made at once
 * after a login is never renewed (iat is in whole seconds, so a token can
 * be most of a second old when it is issued), and a test waits at most
 * about 1.5 s for a renewal, whose exp (whole seconds) is then later.
 */
export const RENEWING = { TOKEN_EXPIRE_HOURS: hours(60), TOKEN_RENEW_THRESHOLD: String(THRESHOLD) };

function run(cmd, args, opts) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 16 << 20, ...opts }, (err, stdout, stderr) => {
      if (err) {
        err.message += `\n${stderr}`;
        reject(err);
      } else resolve({ stdout, stderr });
    });
  });
}

let goChecked;
/**
 * goMissing resolves to a reason to skip the demo tests (no Go and no
 * prebuilt demo), or to false. With SLIDINGJWT_REQUIRE_TOOLS set it never
 * skips: the tests then fail where the demo cannot be built.
 */
export function goMissing() {
  goChecked ??= (async () => {
    if (process.env.SLIDINGJWT_DEMO_BIN || process.env.SLIDINGJWT_REQUIRE_TOOLS) return false;
    try {
      await run("go", ["version"]);
      return false;
    } catch {
      return "go is not installed, so the demo server these tests run against cannot be built (set SLIDINGJWT_DEMO_BIN to a built demo)";
    }
  })();
  return goChecked;
}

let built;
let buildDir;
/** demoBinary builds the demo once per process and returns its path. */
export function demoBinary() {
  if (process.env.SLIDINGJWT_DEMO_BIN) return Promise.resolve(path.resolve(process.env.SLIDINGJWT_DEMO_BIN));
  built ??= (async () => {
    buildDir = await mkdtemp(path.join(os.tmpdir(), "slidingjwt-client-"));
    const bin = path.join(buildDir, "demo");
    await run("go", ["build", "-o", bin, "."], { cwd: demoDir, timeout: 15 * 60 * 1000 });
    return bin;
  })();
  return built;
}

const children = new Set();
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

/**
 * startDemo runs the demo with env (its own variables on top of the
 * defaults below) on a port of its choosing and resolves once /health
 * answers. stop() ends it.
 */
export async function startDemo(env = {}) {
  const bin = await demoBinary();
  const child = spawn(bin, [], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ADDR: "127.0.0.1:0",
      TOKEN_SECRET: SECRET,
      TOKEN_RENEW_MIN_INTERVAL_SECONDS: "1",
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.add(child);
  let log = "";
  const url = await new Promise((resolve, reject) => {
    const onData = (chunk) => {
      log += chunk;
      const m = /msg="demo listening" url=(http:\/\/[^\s]+)/.exec(log);
      if (m) {
        child.stderr.off("data", onData);
        child.stderr.on("data", (c) => {
          log += c;
        });
        resolve(m[1]);
      }
    };
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`the demo exited with status ${code} before it listened:\n${log}`)));
    child.once("error", reject);
  });
  const health = await fetch(`${url}/health`);
  if (health.status !== 200) throw new Error(`the demo's /health answered ${health.status}`);
  return {
    url,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, "exit");
        child.kill("SIGTERM");
        await exited;
      }
      children.delete(child);
    },
  };
}

/** cleanupBuild removes the demo this process built. */
export async function cleanupBuild() {
  if (buildDir) await rm(buildDir, { recursive: true, force: true });
}

/**
 * startServer runs a Node HTTP server with handler on 127.0.0.1 and a
 * free port; it records every request it gets.
 */
export async function startServer(handler) {
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method, path: req.url, headers: req.headers });
    handler(req, res);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async stop() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

/**
 * startProxy runs a proxy in front of target (the demo's URL) that records
 * every request and can change what passes:
 *   hold(req)    may return a promise: the request waits for it before it
 *                is forwarded
 *   holdResponse(req)  may return a promise: the upstream response waits
 *                for it before it is sent on
 *   respond(req, headers)  may change the upstream response's headers
 *                (an object of lower-case names) before they are sent on
 * requests holds { method, path, headers, status } for each request.
 */
export async function startProxy(target, { hold, holdResponse, respond } = {}) {
  const upstream = new URL(target);
  const requests = [];
  const server = http.createServer(async (req, res) => {
    const entry = { method: req.method, path: req.url, headers: req.headers, status: null };
    requests.push(entry);
    const body = [];
    for await (const chunk of req) body.push(chunk);
    if (hold) await hold(entry);
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      async (up) => {
        entry.status = up.statusCode;
        if (holdResponse) await holdResponse(entry);
        const headers = { ...up.headers };
        if (respond) respond(entry, headers);
        res.writeHead(up.statusCode, headers);
        up.pipe(res);
      },
    );
    out.on("error", (err) => {
      res.writeHead(502);
      res.end(String(err));
    });
    out.end(Buffer.concat(body));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** count counts the recorded requests to path (the query ignored). */
    count: (p, method) => requests.filter((r) => r.path.split("?")[0] === p && (!method || r.method === method)).length,
    async stop() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

/** login signs in on the demo directly (not through a client). */
export async function login(base, username) {
  const res = await fetch(`${base}/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password: ACCOUNTS[username] }),
  });
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status}`);
  return (await res.json()).access_token;
}

/** guestToken gets a guest token from the demo directly. */
export async function guestToken(base) {
  const res = await fetch(`${base}/auth-status`);
  const body = await res.json();
  if (!body.access_token) throw new Error("the demo gave no guest token");
  return body.access_token;
}

/** revoke signs token out on the demo directly (POST /api/logout). */
export async function revoke(base, token) {
  const res = await fetch(`${base}/api/logout`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
  if (res.status !== 204) throw new Error(`sign-out answered ${res.status}`);
}

/** claims decodes a JWT's payload (the tests' own decoder). */
export function claims(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
}

/** sleep waits ms milliseconds. Used only where a real token must age. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * untilRenewable waits until the demo will renew token on its next use:
 * past the renewal threshold, and at least a second after it was issued,
 * so the renewal's exp (whole seconds) is later than the token's. Under
 * RENEWING that is at most about 1.5 s.
 */
export async function untilRenewable(token, threshold = THRESHOLD) {
  // A token, or its claims (cookie delivery: the claims /api/me answers).
  const c = typeof token === "string" ? claims(token) : token;
  const threshAt = (c.exp - threshold * (c.exp - c.iat)) * 1000;
  const at = Math.max((c.iat + 1) * 1000, threshAt) + 30;
  const wait = at - Date.now();
  if (wait > 5000) throw new Error(`the token would need ${wait} ms to become renewable: check the test's settings`);
  if (wait > 0) await sleep(wait);
}

/** nextEvent resolves with the next event of type that client emits. */
export function nextEvent(client, type, filter = () => true) {
  return new Promise((resolve) => {
    const off = client.on(type, (detail) => {
      if (!filter(detail)) return;
      off();
      resolve(detail);
    });
  });
}

/** record collects the events of client by type. */
export function record(client) {
  const events = { token: [], ignored: [], sessionend: [] };
  for (const type of Object.keys(events)) client.on(type, (d) => events[type].push(d));
  return events;
}

/**
 * cookieJar is the tests' stand-in for a browser's cookie store, as Node's
 * fetch keeps no cookies: jar.fetch sends the cookies it holds with each
 * request made with credentials other than "omit", and keeps what each
 * response's Set-Cookie says (a Max-Age of 0 or less, or an Expires in the
 * past, deletes). It serves one host: domain and path are not looked at,
 * and neither is the browser's own clock for Max-Age (the server deletes
 * what it wants gone).
 */
export function cookieJar() {
  const cookies = new Map();
  return {
    cookies,
    /** header is the Cookie header the jar sends, or "". */
    header: () => [...cookies].map(([k, v]) => `${k}=${v}`).join("; "),
    async fetch(input, init) {
      const req = new Request(input, init);
      if (req.credentials !== "omit" && cookies.size > 0) req.headers.set("Cookie", this.header());
      const res = await fetch(req);
      for (const line of res.headers.getSetCookie()) {
        const [pair, ...attrs] = line.split(";").map((s) => s.trim());
        const eq = pair.indexOf("=");
        const name = pair.slice(0, eq);
        const value = pair.slice(eq + 1);
        const gone = attrs.some((a) => {
          const [k, v = ""] = a.split("=");
          if (k.toLowerCase() === "max-age") return Number(v) <= 0;
          if (k.toLowerCase() === "expires") return Date.parse(v) <= Date.now();
          return false;
        });
        if (gone || value === "") cookies.delete(name);
        else cookies.set(name, value);
      }
      return res;
    },
  };
}

/** COOKIE is the demo's session cookie over plain HTTP. */
export const COOKIE = "slidingjwt_session";
