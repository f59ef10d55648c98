// clock.js: the page's clock in the browser tests. browser_test.go installs
// it in each new document of a tab, before the page's own scripts run
// (Page.addScriptToEvaluateOnNewDocument), as the function below called
// with the demo server's clock reading in Unix milliseconds.
//
// Date (new Date(), Date()), Date.now, setTimeout, setInterval,
// clearTimeout and clearInterval then read and wait for this clock, which
// moves only when the test calls window.__testClock.advance(ms): that runs
// the timers falling due, in order of due time (then of scheduling), each
// at its own due time, and leaves the clock ms later. The test moves the
// server's clock by the same amount first, so the page and the server
// agree on the time and no scenario waits for real time to pass.
// performance.now and requestAnimationFrame are left real: the page does
// not use them.
//
// The test's own waits (window.__testClock.until) poll with the real
// timers, so that a wait for the page's reaction never moves the clock.
((startMs) => {
  if (window.__testClock) return;
  const RealDate = Date;
  const realSetTimeout = window.setTimeout.bind(window);
  const realNow = RealDate.now;

  let now = startMs;
  let nextId = 1;
  let order = 0; // scheduling order, for timers due at the same time
  // id -> {fn, args, at, every, order}; every is 0 for a timeout.
  const timers = new Map();

  function schedule(fn, delay, args, repeat) {
    if (typeof fn !== "function") {
      throw new TypeError("the test clock runs functions only, not strings of code");
    }
    const ms = Math.max(0, Math.trunc(Number(delay)) || 0);
    const id = nextId++;
    // An interval of 0 would fall due forever within one advance.
    timers.set(id, { fn, args, at: now + ms, every: repeat ? Math.max(1, ms) : 0, order: order++ });
    return id;
  }

  // due returns the id of the first timer due at or before limit, or 0.
  function due(limit) {
    let best = 0;
    let first = null;
    for (const [id, t] of timers) {
      if (t.at > limit) continue;
      if (!first || t.at < first.at || (t.at === first.at && t.order < first.order)) {
        best = id;
        first = t;
      }
    }
    return best;
  }

  function FakeDate(...args) {
    if (!new.target) return new RealDate(now).toString();
    return args.length === 0 ? new RealDate(now) : new RealDate(...args);
  }
  FakeDate.prototype = RealDate.prototype;
  FakeDate.now = () => now;
  FakeDate.parse = RealDate.parse;
  FakeDate.UTC = RealDate.UTC;
  Object.defineProperty(FakeDate, "name", { value: "Date" });

  window.Date = FakeDate;
  window.setTimeout = (fn, delay, ...args) => schedule(fn, delay, args, false);
  window.setInterval = (fn, delay, ...args) => schedule(fn, delay, args, true);
  window.clearTimeout = (id) => void timers.delete(id);
  window.clearInterval = (id) => void timers.delete(id);

  const maxFired = 100000;

  window.__testClock = {
    /** now is the page's time in Unix milliseconds. */
    now: () => now,

    /** pending is the number of timers scheduled. */
    pending: () => timers.size,

    /**
     * advance moves the clock ms forward, running the timers that fall
     * due on the way, and returns {now, errors}: the new time and what the
     * timers threw (each is also reported to the page, as a real timer's
     * exception would be).
     */
    advance(ms) {
      if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`advance(${ms}): want a number of milliseconds >= 0`);
      const target = now + ms;
      const errors = [];
      let fired = 0;
      for (let id = due(target); id !== 0; id = due(target)) {
        const t = timers.get(id);
        now = t.at;
        if (t.every) {
          t.at += t.every;
          t.order = order++;
        } else {
          timers.delete(id);
        }
        if (++fired > maxFired) {
          throw new Error(`advance(${ms}): more than ${maxFired} timers fell due (a timer that reschedules itself at once?)`);
        }
        try {
          t.fn.apply(window, t.args);
        } catch (err) {
          errors.push(String(err?.stack ?? err));
          reportError(err);
        }
      }
      now = target;
      return { now, errors };
    },

    /**
     * until resolves once cond() returns true, checking it every 10 ms of
     * real time; it rejects after timeoutMs of real time (a guard against a
     * test that would otherwise hang), naming what cond last threw.
     */
    until(cond, timeoutMs) {
      const deadline = realNow() + timeoutMs;
      return new Promise((resolve, reject) => {
        const check = () => {
          let last = null;
          try {
            if (cond()) return resolve(true);
          } catch (err) {
            last = err;
          }
          if (realNow() >= deadline) {
            const why = last ? `; it last threw ${last}` : "";
            return reject(new Error(`still false after ${timeoutMs} ms of real time${why}`));
          }
          realSetTimeout(check, 10);
        };
        check();
      });
    },
  };
})
