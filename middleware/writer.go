package middleware

import (
	"bufio"
	"net"
	"net/http"

	"github.com/labstack/echo/v4"
)

// renewalWriter is the response's writer while a renewal waits for the
// status. Echo's Response.WriteHeader, where the renewal is decided, is
// bypassed by whatever reaches the writer directly: a Flush before any
// write, which sends the headers as they are; a handler, or a middleware
// registered after this one (Echo's Gzip), that writes to or sets the
// status on c.Response().Writer; a Hijack, which hands the connection to
// the handler. So the first WriteHeader or Write decides the renewal, on
// the status it sends (200 for a Write), before anything leaves; a Flush
// first writes the headers through Echo, whose Before hooks include the
// renewal's; and a Hijack, with no headers and no status to judge, drops
// the renewal without asking the store. Once the renewal is decided, every
// call passes through.
//
// wrapWriter gives it the optional interfaces (http.Flusher, http.Pusher)
// of the writer it wraps, and only those, so that a handler's type
// assertions answer the same whether or not a renewal is pending;
// http.Hijacker also when the wrapped writer only unwraps to one. Unwrap
// gives the wrapped writer, for http.ResponseController.
type renewalWriter struct {
	http.ResponseWriter
	res *echo.Response
	r   *renewal
}

// wrapWriter returns w with the optional interfaces of the writer it wraps.
func wrapWriter(w *renewalWriter) http.ResponseWriter {
	_, f := w.ResponseWriter.(http.Flusher)
	// A Hijacker also when one is only reachable through Unwrap, as
	// http.ResponseController reaches it: its Hijack must pass here.
	h := canHijack(w.ResponseWriter)
	_, p := w.ResponseWriter.(http.Pusher)
	fp, hp, pp := flushPart{w}, hijackPart{w}, pushPart{w}
	switch {
	case f && h && p:
		return struct {
			*renewalWriter
			flushPart
			hijackPart
			pushPart
		}{w, fp, hp, pp}
	case f && h:
		return struct {
			*renewalWriter
			flushPart
			hijackPart
		}{w, fp, hp}
	case f && p:
		return struct {
			*renewalWriter
			flushPart
			pushPart
		}{w, fp, pp}
	case h && p:
		return struct {
			*renewalWriter
			hijackPart
			pushPart
		}{w, hp, pp}
	case f:
		return struct {
			*renewalWriter
			flushPart
		}{w, fp}
	case h:
		return struct {
			*renewalWriter
			hijackPart
		}{w, hp}
	case p:
		return struct {
			*renewalWriter
			pushPart
		}{w, pp}
	}
	return w
}

// decide runs the renewal's commit for a response that leaves with status
// without going through Echo's Response.WriteHeader.
func (w *renewalWriter) decide(status int) {
	if w.r.done {
		return
	}
	w.res.Status = status
	w.r.commit()
}

func (w *renewalWriter) WriteHeader(status int) {
	// An informational status (103 Early Hints) is not the response's
	// status: the renewal waits for the final one. 101 Switching Protocols
	// ends the HTTP exchange and is judged like any other.
	if status >= 100 && status < 200 && status != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.decide(status)
	w.ResponseWriter.WriteHeader(status)
}

func (w *renewalWriter) Write(b []byte) (int, error) {
	w.decide(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

// FlushError is what http.ResponseController, and so Echo's
// Response.Flush, calls. It commits nothing when the writer it wraps
// cannot flush.
func (w *renewalWriter) FlushError() error {
	if !canFlush(w.ResponseWriter) {
		return http.ErrNotSupported
	}
	if !w.res.Committed {
		w.res.WriteHeader(w.res.Status)
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// hijack is what http.ResponseController calls (through wrapWriter's
// http.Hijacker, when the wrapped writer has one).
func (w *renewalWriter) hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.r.drop(ReasonHijacked)
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *renewalWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// The optional interfaces wrapWriter adds.
type (
	flushPart  struct{ w *renewalWriter }
	hijackPart struct{ w *renewalWriter }
	pushPart   struct{ w *renewalWriter }
)

func (p flushPart) Flush() { _ = p.w.FlushError() }

func (p hijackPart) Hijack() (net.Conn, *bufio.ReadWriter, error) { return p.w.hijack() }

func (p pushPart) Push(target string, opts *http.PushOptions) error {
	return p.w.ResponseWriter.(http.Pusher).Push(target, opts)
}

// unwrapsTo reports whether rw, or a writer it unwraps to, satisfies is,
// following Unwrap as http.ResponseController does.
func unwrapsTo(rw http.ResponseWriter, is func(http.ResponseWriter) bool) bool {
	for rw != nil {
		if is(rw) {
			return true
		}
		u, ok := rw.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return false
		}
		rw = u.Unwrap()
	}
	return false
}

// canHijack and canFlush report what http.ResponseController would find.
func canHijack(rw http.ResponseWriter) bool {
	return unwrapsTo(rw, func(w http.ResponseWriter) bool { _, ok := w.(http.Hijacker); return ok })
}

func canFlush(rw http.ResponseWriter) bool {
	return unwrapsTo(rw, func(w http.ResponseWriter) bool {
		switch w.(type) {
		case interface{ FlushError() error }, http.Flusher:
			return true
		}
		return false
	})
}
