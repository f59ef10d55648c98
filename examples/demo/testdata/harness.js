// harness.js: evaluated by browser_test.go in a page of the demo. It loads
// the real client module and defines window.harness.make, which builds a
// client against a fake server, so the client's rules can be checked
// without waiting for real tokens to age.
(async () => {
  const mod = await import("/static/client.js");

  class MemoryStorage {
    #items = new Map();
    getItem(key) {
      return this.#items.has(key) ? this.#items.get(key) : null;
    }
    setItem(key, value) {
      this.#items.set(key, String(value));
    }
    removeItem(key) {
      this.#items.delete(key);
    }
  }

  const pathOf = (url) => new URL(url, "http://page.invalid").pathname;

  window.harness = {
    mod,
    // make returns {client, calls, events, stored(), paths()}. handler(path,
    // token) answers each request with {status, headers, body}.
    make({ token = null, guest = null, baseURL = "", handler }) {
      const storage = new MemoryStorage();
      if (token) storage.setItem(mod.DEFAULT_STORAGE_KEY, token);
      const h = { calls: [], events: [] };
      h.client = mod.createClient({
        baseURL,
        guest,
        storage,
        async fetch(url, init = {}) {
          const auth = new Headers(init.headers).get("Authorization");
          const call = {
            url: String(url),
            token: auth ? auth.replace(/^Bearer /, "") : null,
            credentials: init.credentials ?? null,
          };
          h.calls.push(call);
          await new Promise((resolve) => setTimeout(resolve, 5)); // answer later, like a network
          const r = handler(pathOf(call.url), call.token) ?? { status: 404 };
          return new Response(r.body ?? "{}", { status: r.status, headers: r.headers ?? {} });
        },
        onToken: (t, claims, reason) => h.events.push(`token:${reason}`),
        onIgnored: () => h.events.push("ignored"),
        onExpired: (reason) => h.events.push(`expired:${reason}`),
        onLoginRequired: (reason) => h.events.push(`login:${reason}`),
      });
      h.stored = () => storage.getItem(mod.DEFAULT_STORAGE_KEY);
      h.paths = () => h.calls.map((c) => pathOf(c.url));
      return h;
    },
  };
  return true;
})()
