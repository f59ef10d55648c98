// app.js: the demo page. It shows the current token, calls /api/me on
// demand, polls /api/status in the background (a renewal skip path, so the
// poll never extends the session) and reacts to renewals and expiry.
//
// Page state for people and for the browser tests lives in data attributes
// on <body>: data-state is loading, login, active or expired.
//
// Query parameters: ?poll=<seconds> sets the poll interval (default 5;
// 0 turns polling off), of /api/status and of the server counters.
//
// The "Server counters" panel reads /metrics/summary (outside the
// middleware: no token sent, nothing renewed) at load, after each call of
// /api/me, and every poll interval; data-server-renewals,
// data-server-rate-limited and data-server-reads on <body> mirror it.

import { createClient, decodeJWT, isGuestClaims } from "./client.js";

const $ = (id) => document.getElementById(id);
const body = document.body;

const apiBase = document.querySelector('meta[name="slidingjwt-api-base"]')?.content ?? "";
// TOKEN_DELIVERY: "header" keeps the token in localStorage; "cookie" (and
// "both") leaves it in the HttpOnly cookie, out of script's reach.
const delivery = document.querySelector('meta[name="slidingjwt-delivery"]')?.content || "header";
const cookieMode = delivery !== "header";
const pollSeconds = pollInterval(new URLSearchParams(location.search).get("poll"));

const page = {
  serverReading: false,
  serverAgain: false,
  serverReads: 0,
  renewals: 0,
  meCalls: 0,
  pollTimer: null,
  polling: false,
  expiredBy: "",
  signingOut: false,
  // shown: the claims on display: the session's, and once it has ended
  // the last one's, so that the expired panel still says whose it was.
  shown: null,
  guest: false,
  lifetime: null, // seconds, from the session's first token
  renewedAt: null, // cookie delivery: when this page saw the last renewal
};

// The client package (@slidingjwt/client, copied from client/ by `make
// client-copy`): in header delivery it keeps the token in localStorage
// and the tabs of this origin in step; in cookie delivery it keeps no
// token, reads the expiry from X-Session-Expires and the claims from
// /api/me.
const client = createClient({
  baseURL: apiBase,
  delivery: cookieMode ? "cookie" : "header",
  mePath: cookieMode ? "/api/me" : null,
});

client.on("token", (e) => {
  const exp = e.expiresAt ? e.expiresAt.getTime() / 1000 : undefined;
  const where = e.fromOtherTab ? " (in another tab)" : "";
  if (e.reason === "renewed") {
    page.renewals++;
    page.renewedAt = Date.now() / 1000;
    const how = cookieMode ? "new session cookie set" : "X-New-Token received";
    note(`renewed${where}: ${how}, now valid until ${clock(exp)}`, "good");
  } else {
    page.lifetime = null;
    page.renewedAt = null;
    if (e.reason === "resumed") note(`resumed the session of ${e.claims?.sub ?? "?"} (valid until ${clock(exp)})`);
    else if (e.reason === "guest") note(`guest session started${where} (valid until ${clock(exp)})`);
    else note(`signed in as ${e.claims?.sub}${where} (valid until ${clock(exp)})`);
  }
  showSession();
});

client.on("ignored", (e) => {
  note(`ignored an X-New-Token (${e.reason}, sub ${e.claims?.sub ?? "?"})`, "warn");
});

client.on("sessionend", (e) => {
  const guest = e.claims ? isGuestClaims(e.claims) : page.guest;
  if (e.reason === "signed-out") {
    if (!e.fromOtherTab) return; // signOut() below carries on
    stopPolling();
    note("signed out in another tab", "bad");
    // A guest's other tab starts the next guest session, which comes here
    // as a token event.
    if (guest) markExpired("other-tab");
    else showLogin("Signed out in another tab.");
    return;
  }
  if (e.background && guest) {
    note("poll answered 401: the session has expired", "bad");
    markExpired("server");
    return;
  }
  stopPolling();
  const messages = {
    expired: "Your session expired. Please sign in again.",
    rejected: "The server did not accept the session. Please sign in.",
    "refresh-failed": "Could not start a new guest session. Please sign in.",
    "login-required": "This server requires a login.",
  };
  note(`login required (${e.reason})`, "bad");
  showLogin(messages[e.reason] ?? "Please sign in.");
});

// A console playground, and what the browser tests read.
window.demo = { client, page, decodeJWT, delivery };

function pollInterval(raw) {
  if (raw === null || raw === "") return 5;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) return 5;
  return n === 0 ? 0 : Math.max(n, 0.5);
}

function setState(state) {
  body.dataset.state = state;
}

function clock(epochSeconds) {
  if (typeof epochSeconds !== "number") return "–";
  return new Date(epochSeconds * 1000).toLocaleTimeString([], { hour12: false });
}

function note(text, tone = "") {
  const li = document.createElement("li");
  const time = document.createElement("time");
  time.textContent = new Date().toLocaleTimeString([], { hour12: false });
  li.append(time, " ", text);
  if (tone) li.className = tone;
  const log = $("log");
  log.prepend(li);
  while (log.children.length > 12) log.lastElementChild.remove();
}

function showLogin(notice) {
  setState("login");
  $("session").hidden = true;
  $("login").hidden = false;
  $("login-notice").hidden = !notice;
  $("login-notice").textContent = notice ?? "";
  ($("username").value ? $("password") : $("username")).focus();
}

function showSession() {
  const session = client.session;
  if (!session?.claims) return;
  const claims = session.claims;
  page.shown = claims;
  page.guest = session.guest;
  if (page.lifetime === null && typeof claims.iat === "number" && typeof claims.exp === "number") {
    page.lifetime = claims.exp - claims.iat;
  }
  page.expiredBy = "";
  delete body.dataset.expiredBy;
  $("login").hidden = true;
  $("session").hidden = false;
  $("expired-banner").hidden = true;
  $("mode").textContent = page.guest ? "guest mode" : "password login";
  setState("active");
  render();
  startPolling();
}

function markExpired(by) {
  if (body.dataset.state !== "active" && body.dataset.state !== "expired") return;
  page.expiredBy ||= by;
  setState("expired");
  body.dataset.expiredBy = page.expiredBy;
  $("expired-banner").hidden = false;
  $("expired-detail").textContent = page.guest
    ? "Call the API to start a new guest session."
    : "The next request will ask you to sign in again.";
  if (by !== "clock") stopPolling();
  render();
}

// render paints the token's facts; tick calls it several times a second.
function render() {
  const claims = page.shown;
  if (!claims || $("session").hidden) return;
  const now = Date.now() / 1000;
  const remaining = Math.max(0, (claims.exp ?? 0) - now);
  const lifetime = page.lifetime;
  $("sub").textContent = claims.sub ?? "–";
  $("role").textContent = claims.role ?? "–";
  $("expires-at").textContent = clock(claims.exp);
  // A renewed token is issued after its session signed in. In cookie
  // delivery the page sees the new expiry, not the token: it shows when it
  // saw the renewal.
  const renewedAt = cookieMode ? page.renewedAt : claims.iat && claims.auth_time && claims.iat > claims.auth_time ? claims.iat : null;
  $("renewed-at").textContent = renewedAt ? clock(renewedAt) : "not yet";
  $("renewals").textContent = String(page.renewals);
  body.dataset.renewals = String(page.renewals);

  const expired = remaining <= 0;
  if (expired && body.dataset.state === "active") {
    note("token expired (local clock)", "bad");
    markExpired("clock");
    return;
  }
  const m = Math.floor(remaining / 60);
  const s = Math.floor(remaining % 60);
  $("countdown").textContent = expired ? "expired" : `${m}:${String(s).padStart(2, "0")}`;
  const share = lifetime ? Math.min(1, remaining / lifetime) : 0;
  $("meter-fill").style.width = `${(share * 100).toFixed(1)}%`;
  const status = expired ? "expired" : share < 0.5 ? "renews on next request" : "active";
  $("status").textContent = status;
  $("status").className = `pill ${expired ? "pill-bad" : share < 0.5 ? "pill-warn" : "pill-good"}`;
  $("meter-fill").className = `meter-fill ${share < 0.5 ? "meter-warn" : ""}`;
}

function startPolling() {
  if (!pollSeconds || page.pollTimer) return;
  page.pollTimer = setInterval(poll, pollSeconds * 1000);
}

function stopPolling() {
  clearInterval(page.pollTimer);
  page.pollTimer = null;
}

async function poll() {
  if (page.polling || !client.session) return;
  page.polling = true;
  try {
    const res = await client("/api/status", { background: true });
    body.dataset.lastPoll = String(res.status);
    $("poll-info").textContent = `${pollText()} · last poll ${clock(Date.now() / 1000)}: ${res.status}`;
  } catch (err) {
    body.dataset.lastPoll = "error";
    $("poll-info").textContent = `${pollText()} · last poll failed: ${err.message}`;
  } finally {
    page.polling = false;
  }
}

// readServer refreshes the panel of server counters. While a read is in
// flight, a call asks for one more read once it is done, so the panel
// never misses what the call was made for.
async function readServer() {
  if (page.serverReading) {
    page.serverAgain = true;
    return;
  }
  page.serverReading = true;
  page.serverAgain = false;
  try {
    const res = await fetch(`${apiBase}/metrics/summary`, { credentials: "omit", cache: "no-store" });
    if (!res.ok) throw new Error(`status ${res.status}`);
    showServer(await res.json());
    page.serverReads++;
    body.dataset.serverReads = String(page.serverReads);
    $("server-updated").textContent = `read at ${clock(Date.now() / 1000)}`;
  } catch (err) {
    $("server-updated").textContent = `cannot read the counters: ${err.message}`;
  } finally {
    page.serverReading = false;
  }
  if (page.serverAgain) readServer();
}

// The outcomes of a request whose token was accepted; the others are
// refusals.
const accepted = new Set(["verified", "cache_hit"]);

function showServer(summary) {
  const renewals = summary.renewals ?? {};
  const requests = summary.requests ?? {};
  const renewed = renewals.renewed ?? 0;
  const rateLimited = renewals.rate_limited ?? 0;
  const refusals = Object.entries(requests).filter(([outcome]) => !accepted.has(outcome));
  $("srv-renewed").textContent = String(renewed);
  $("srv-rate-limited").textContent = String(rateLimited);
  $("srv-refused").textContent = String(refusals.reduce((sum, [, n]) => sum + n, 0));
  fillCounts($("srv-reasons"), Object.entries(renewals).filter(([result]) => result !== "renewed"));
  fillCounts($("srv-refusals"), refusals);
  body.dataset.serverRenewals = String(renewed);
  body.dataset.serverRateLimited = String(rateLimited);
}

// fillCounts lists the counts above zero, largest first.
function fillCounts(tbody, entries) {
  const rows = entries.filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const trs = rows.map(([name, n]) => {
    const tr = document.createElement("tr");
    const label = document.createElement("td");
    label.className = "mono";
    label.textContent = name;
    const count = document.createElement("td");
    count.className = "num";
    count.textContent = String(n);
    tr.append(label, count);
    return tr;
  });
  if (trs.length === 0) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.className = "muted";
    td.textContent = "none yet";
    tr.append(td, document.createElement("td"));
    trs.push(tr);
  }
  tbody.replaceChildren(...trs);
}

function pollText() {
  return pollSeconds
    ? `Polling /api/status every ${pollSeconds} s (a renewal skip path: polling never extends the session)`
    : "Polling is off";
}

async function callMe() {
  const button = $("call-me");
  button.disabled = true;
  try {
    const res = await client("/api/me");
    const text = await res.text();
    let shown = text;
    try {
      shown = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // not JSON: show it as it is
    }
    const renewed = res.headers.get("X-New-Token") ? " · carried X-New-Token" : "";
    // (In cookie delivery a renewal is a Set-Cookie, which script cannot
    // see; the log shows it from X-Session-Expires.)
    $("response").textContent = `${res.status} ${res.statusText}${renewed}\n${shown}`;
    body.dataset.meStatus = String(res.status);
    note(`GET /api/me → ${res.status}`, res.ok ? "" : "bad");
  } catch (err) {
    $("response").textContent = `request failed: ${err.message}`;
    body.dataset.meStatus = "error";
  } finally {
    page.meCalls++;
    body.dataset.meCalls = String(page.meCalls);
    button.disabled = false;
  }
  readServer();
}

async function signOut() {
  const guest = page.guest;
  stopPolling();
  // The client ends the session on the server first (POST /api/logout),
  // so that a copy of the token (in a proxy's log, say) stops working
  // too; then it forgets it here and in the other tabs.
  page.signingOut = true;
  try {
    const { ok, status } = await client.signOut();
    if (!ok) note(`sign-out on the server failed (${status ?? "no answer"}); the session is forgotten here only`);
  } finally {
    page.signingOut = false;
  }
  $("response").textContent = "(signed out)";
  if (guest) {
    note("signed out; starting a new guest session");
    await start();
  } else {
    note("signed out");
    showLogin(null);
  }
}

async function submitLogin(event) {
  event.preventDefault();
  const error = $("login-error");
  error.hidden = true;
  $("login-submit").disabled = true;
  try {
    await client.login($("username").value, $("password").value);
    $("password").value = "";
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
    $("password").value = "";
    $("password").focus();
    note(`login failed: ${err.message}`, "bad");
  } finally {
    $("login-submit").disabled = false;
  }
}

// start shows the session there is when it is still valid (the stored
// token; in cookie delivery the client asks /api/me whether the cookie
// holds one), and otherwise asks the server for a guest session, or shows
// the login form where logins are required.
async function start() {
  try {
    const session = await client.resume();
    if (session && (session.expiresAt === null || session.expiresAt.getTime() > Date.now())) {
      if (!cookieMode) note(`resumed the stored session of ${session.subject}`);
      showSession();
      return;
    }
    const started = await client.guestSession(); // null: logins are required
    if (!started) {
      $("mode").textContent = "password login";
      showLogin(session ? "Your session expired. Please sign in again." : null);
    }
  } catch (err) {
    $("fatal").textContent = `Cannot reach the API at ${apiBase || location.origin}: ${err.message}`;
    $("fatal").hidden = false;
    setState("error");
  }
}

$("call-me").addEventListener("click", callMe);
$("sign-out").addEventListener("click", signOut);
$("login-form").addEventListener("submit", submitLogin);
// Renewals, sign-ins and sign-outs in the other tabs of this origin reach
// this one through the client's events (a BroadcastChannel).

$("poll-info").textContent = pollText();
$("metrics-link").href = `${apiBase}/metrics`;
readServer();
if (pollSeconds) setInterval(readServer, pollSeconds * 1000);
$("api-info").textContent = apiBase ? ` · API at ${apiBase} (cross-origin)` : "";
setInterval(render, 250);
start();
