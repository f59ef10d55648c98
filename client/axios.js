// @slidingjwt/client/axios: the client's behaviour on an axios instance,
// as one request and one response interceptor.
//
//   import axios from "axios";
//   import { createClient } from "@slidingjwt/client";
//   import { attach } from "@slidingjwt/client/axios";
//
//   const client = createClient({ baseURL: "https://api.example.com" });
//   const http = axios.create();
//   const detach = attach(http, client);
//   await http.get("/api/me");
//   await http.get("/api/status", { background: true });
//
// Every request of the instance is resolved by the client: a path is
// appended to the client's baseURL (or to the instance's baseURL, which
// must then be on the client's origin); a URL on another origin rejects
// with ForeignOriginError before anything is sent. In cookie delivery the
// requests go withCredentials, ask for X-Session-Expires while the client
// knows no expiry, and the expiry is read from it. The adapter does not
// import axios: it works with the instance it is given.

import { ForeignOriginError, SESSION_EXPIRES_HEADER } from "./client.js";

// The key of the adapter's own state on a request config. A string key, so
// that it survives axios's copy of the config when a request is sent again.
const STATE = "slidingjwt";

// Like axios: a scheme, or "//", starts an absolute URL.
const ABSOLUTE = /^([a-z][a-z\d+\-.]*:)?\/\//i;

// fullURL joins config.url to config.baseURL the way axios does.
function fullURL(config) {
  const url = config.url ?? "";
  const base = config.baseURL;
  if (base && (!ABSOLUTE.test(url) || config.allowAbsoluteUrls === false)) {
    return url ? base.replace(/\/+$/, "") + "/" + url.replace(/^\/+/, "") : base;
  }
  return url;
}

function setHeader(config, name, value) {
  const h = config.headers;
  if (h && typeof h.set === "function") h.set(name, value);
  else config.headers = { ...(h ?? {}), [name]: value };
}

function removeHeader(config, name) {
  const h = config.headers;
  if (!h) return;
  if (typeof h.delete === "function") {
    h.delete(name);
    return;
  }
  const lower = name.toLowerCase();
  config.headers = Object.fromEntries(Object.entries(h).filter(([k]) => k.toLowerCase() !== lower));
}

function hasHeader(config, name) {
  const h = config.headers;
  if (!h) return false;
  if (typeof h.has === "function") return h.has(name);
  const lower = name.toLowerCase();
  return Object.keys(h).some((k) => k.toLowerCase() === lower);
}

function getHeader(headers, name) {
  if (!headers) return undefined;
  if (typeof headers.get === "function") return headers.get(name) ?? undefined;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/**
 * attach installs the client's behaviour on an axios instance and returns
 * a function that removes it.
 */
export function attach(instance, client) {
  if (!instance?.interceptors?.request || typeof instance.request !== "function") {
    throw new TypeError("attach takes an axios instance (axios.create() or axios itself)");
  }
  if (typeof client !== "function" || typeof client.handleUnauthorized !== "function") {
    throw new TypeError("attach takes a client made by createClient");
  }

  const onRequest = (config) => {
    const state = config[STATE] ?? {};
    // The instance's baseURL counts only when it is on the client's
    // origin: resolve checks the joined URL. axios reads "//host/x" as an
    // absolute URL, so it is judged as one here too.
    let joined = fullURL(config);
    if (joined.startsWith("//")) joined = new URL(joined, client.origin).href;
    // From here on the URL is absolute and checked; null (not undefined)
    // keeps axios from joining the instance's baseURL to it again when the
    // request is sent a second time.
    config.url = client.resolve(joined);
    config.baseURL = null;
    const background = config.background === true || hasHeader(config, client.backgroundHeader);
    // What the request goes with: the token (header delivery), or the
    // cookie's session (cookie delivery), where the browser sends the
    // cookie when the request is made with credentials.
    const sent = "retryWith" in state ? state.retryWith : client.current();
    if (client.delivery === "cookie") config.withCredentials = true;
    else if (sent) setHeader(config, "Authorization", `Bearer ${sent}`);
    if (background) setHeader(config, client.backgroundHeader, "1");
    // The ask for the expiry: set while the client knows none; a retry's
    // config is a copy of the first attempt's, so an ask the adapter set
    // there is taken back when the retry's session has an expiry.
    const asks = client.asksExpiry(sent ?? null);
    if (asks) setHeader(config, SESSION_EXPIRES_HEADER, "?");
    else if (state.asked) removeHeader(config, SESSION_EXPIRES_HEADER);
    config[STATE] = { ...state, sent: sent ?? null, background, asked: asks };
    return config;
  };

  const afterResponse = (response) => {
    const state = response?.config?.[STATE];
    if (state) {
      client.observe(response.status, (name) => {
        const v = getHeader(response.headers, name);
        return v === undefined || v === null ? null : String(v);
      }, { background: state.background, sent: state.sent });
    }
  };

  // unauthorized returns the retry's promise, or null when the 401 stands.
  const unauthorized = async (config) => {
    const state = config[STATE];
    if (!state) return null;
    const next = await client.handleUnauthorized(state.sent, { background: state.background, retried: !!state.retried });
    if (next === null || state.retried) return null;
    return instance.request({ ...config, [STATE]: { retryWith: next, retried: true, asked: state.asked } });
  };

  const resId = instance.interceptors.response.use(
    async (response) => {
      afterResponse(response);
      if (response.status === 401) {
        // validateStatus let the 401 through: apply the same rules.
        const retry = await unauthorized(response.config);
        if (retry !== null) return retry;
      }
      return response;
    },
    async (error) => {
      if (error instanceof ForeignOriginError || !error?.response || !error.config) throw error;
      afterResponse(error.response);
      if (error.response.status === 401) {
        const retry = await unauthorized(error.config);
        if (retry !== null) return retry;
      }
      throw error;
    },
  );
  const reqId = instance.interceptors.request.use(onRequest);

  return function detach() {
    instance.interceptors.request.eject(reqId);
    instance.interceptors.response.eject(resId);
  };
}
