package engine

import (
	"bufio"
	"net"
	"net/http"
)

// renewalWriter is the response's writer while a renewal waits for the
// status: everything that leaves goes through it, whatever the front door
// (a router's own response type, a handler or a later middleware writing
// to the writer directly, Echo's Gzip). So the first WriteHeader with a
// final status, or the first Write, decides the renewal, on the status it
// sends (200 for a Write), before anything leaves; an informational status
// (103) passes without deciding; a Flush before any write first writes the
// headers (through the front door's BeforeFlush when it has one, so that
// its response type knows they left); and a Hijack, with no headers and no
// status to judge, drops the renewal without asking the store. Once the
// renewal is decided, every call passes through.
//
// wrapWriter gives it the optional interfaces (http.Flusher, http.Pusher)
// of the writer it wraps, and only those, so that a handler's type
// assertions answer the same whether or not a renewal is pending;
// http.Hijacker also when the wrapped writer only unwraps to one. Unwrap
// gives the wrapped writer, for http.ResponseController.
type renewalWriter[C any] struct {
	http.ResponseWriter
	p     *Pending[C]
	hooks WriterHooks
}

// wrapWriter returns w with the optional interfaces of the writer it wraps.
func wrapWriter[C any](w *renewalWriter[C]) http.ResponseWriter {
	_, f := w.ResponseWriter.(http.Flusher)
	// A Hijacker also when one is only reachable through Unwrap, as
	// http.ResponseController reaches it: its Hijack must pass here.
	h := canHijack(w.ResponseWriter)
	_, p := w.ResponseWriter.(http.Pusher)
	fp, hp, pp := flushPart[C]{w}, hijackPart[C]{w}, pushPart[C]{w}
	switch {
	case f && h && p:
		return struct {
			*renewalWriter[C]
			flushPart[C]
			hijackPart[C]
			pushPart[C]
		}{w, fp, hp, pp}
	case f && h:
		return struct {
			*renewalWriter[C]
			flushPart[C]
			hijackPart[C]
		}{w, fp, hp}
	case f && p:
		return struct {
			*renewalWriter[C]
			flushPart[C]
			pushPart[C]
		}{w, fp, pp}
	case h && p:
		return struct {
			*renewalWriter[C]
			hijackPart[C]
			pushPart[C]
		}{w, hp, pp}
	case f:
		return struct {
			*renewalWriter[C]
			flushPart[C]
		}{w, fp}
	case h:
		return struct {
			*renewalWriter[C]
			hijackPart[C]
		}{w, hp}
	case p:
		return struct {
			*renewalWriter[C]
			pushPart[C]
		}{w, pp}
	}
	return w
}

// decide decides the renewal for a response that leaves with status.
func (w *renewalWriter[C]) decide(status int) {
	if w.p.done {
		return
	}
	if w.hooks.OnStatus != nil {
		w.hooks.OnStatus(status)
	}
	w.p.Decide(status, w.ResponseWriter.Header())
}

func (w *renewalWriter[C]) WriteHeader(status int) {
	// An informational status (103 Early Hints) is not the response's
	// status: the renewal waits for the final one. 101 Switching Protocols
	// ends the HTTP exchange and is judged like any other.
	if !informational(status) {
		w.decide(status)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *renewalWriter[C]) Write(b []byte) (int, error) {
	w.decide(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

// FlushError is what http.ResponseController calls. It commits nothing
// when the writer it wraps cannot flush.
func (w *renewalWriter[C]) FlushError() error {
	if !canFlush(w.ResponseWriter) {
		return http.ErrNotSupported
	}
	if !w.p.done {
		if w.hooks.BeforeFlush != nil {
			w.hooks.BeforeFlush() // writes the headers through the front door
		}
		if !w.p.done {
			w.WriteHeader(http.StatusOK)
		}
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// hijack is what http.ResponseController calls (through wrapWriter's
// http.Hijacker, when the wrapped writer has one).
func (w *renewalWriter[C]) hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.p.drop(ReasonHijacked)
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *renewalWriter[C]) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// The optional interfaces wrapWriter adds.
type (
	flushPart[C any]  struct{ w *renewalWriter[C] }
	hijackPart[C any] struct{ w *renewalWriter[C] }
	pushPart[C any]   struct{ w *renewalWriter[C] }
)

func (p flushPart[C]) Flush() { _ = p.w.FlushError() }

func (p hijackPart[C]) Hijack() (net.Conn, *bufio.ReadWriter, error) { return p.w.hijack() }

func (p pushPart[C]) Push(target string, opts *http.PushOptions) error {
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
