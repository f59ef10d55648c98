// harness.js: evaluated by browser_test.go in a page of the demo. It loads
// the real client module (the package's client.js, as the demo serves it) and defines window.harness.make, which builds a
// client against a fake server, so the client's rules can be checked
// without tokens having to age.
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

  // nextTask resolves in a later task of the event loop, as a network
  // answer would. It uses no timer: the page's timers run on the test's
  // clock (testdata/clock.js), which does not move here.
  const nextTask = () =>
    new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });

  window.harness = {
    mod,
    // gate returns {wait, open}: wait() resolves once open() was called.
    gate() {
      let open;
      const wait = new Promise((resolve) => (open = resolve));
      return { wait: () => wait, open };
    },
    // outcome settles promise and returns "status N" or the error's name.
    async outcome(promise) {
      try {
        return `status ${(await promise).status}`;
      } catch (err) {
        return err?.name ?? String(err);
      }
    },
    // make returns {client, calls, events, stored(), paths(), sent()}.
    // handler(path, token) answers each request with {status, headers,
    // body}, or a promise of one, so a case can hold a response back until
    // another request has finished. events lists what the client reported:
    // "token:<reason>", "ignored", "sessionend:<reason>" (and ":background"
    // for a background request's).
    make({ token = null, guest, baseURL = "", guestPath, loginPath, handler }) {
      const storage = new MemoryStorage();
      if (token) storage.setItem(mod.DEFAULT_STORAGE_KEY, token);
      const h = { calls: [], events: [], storage };
      h.client = mod.createClient({
        baseURL,
        guest,
        guestPath,
        loginPath,
        storage,
        async fetch(input, init) {
          const req = new Request(input, init);
          const auth = req.headers.get("Authorization");
          const call = {
            url: req.url,
            token: auth ? auth.replace(/^Bearer /, "") : null,
            credentials: req.credentials,
            background: req.headers.get(mod.BACKGROUND_HEADER),
          };
          h.calls.push(call);
          await nextTask(); // answer later, like a network
          const r = (await handler(pathOf(call.url), call.token)) ?? { status: 404 };
          return new Response(r.body ?? "{}", { status: r.status, headers: r.headers ?? {} });
        },
      });
      h.client.on("token", (e) => h.events.push(`token:${e.reason}`));
      h.client.on("ignored", () => h.events.push("ignored"));
      h.client.on("sessionend", (e) => h.events.push(`sessionend:${e.reason}${e.background ? ":background" : ""}`));
      h.stored = () => storage.getItem(mod.DEFAULT_STORAGE_KEY);
      h.paths = () => h.calls.map((c) => pathOf(c.url));
      // sent lists the requests as "path token-name", with name(token).
      h.sent = (name) => h.calls.map((c) => `${pathOf(c.url)} ${name(c.token)}`);
      return h;
    },
  };
  return true;
})()
