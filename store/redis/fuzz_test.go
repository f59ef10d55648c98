package redis

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/store"
)

// The fuzz targets below cover what the revocation feed decodes from
// Redis: records (a field and its record, as the data hash and the feed
// script hold them), pub/sub messages, and whole answers of the feed
// script. What another program, an older or later release, or a damaged
// server leaves there must fail closed (be refused, or make the read an
// error), never panic, and never decode to something other than what was
// written. Their seed corpora run with go test; make fuzz runs them for a
// while.

// fuzzRecord is a valid field and record for the seeds.
func fuzzRecord(kind store.RevocationKind, key byte, before, until int64) (string, string) {
	var k store.RevocationKey
	for i := range k {
		k[i] = key + byte(i)
	}
	return encodeField(kind, k), encodeTime(before) + encodeTime(until)
}

// FuzzDecodeRecord: a field and record decode only when they are exactly
// what encodeField and encodeTime write for the result.
func FuzzDecodeRecord(f *testing.F) {
	field, record := fuzzRecord(store.RevokeSession, 1, 0, int64(time.Hour))
	f.Add(field, record)
	field, record = fuzzRecord(store.RevokeSubject, 9, -1, 1<<62)
	f.Add(field, record)
	f.Add(field, strings.Repeat("9", 40))                       // each half above 2^64
	f.Add(field, "+"+record[1:])                                // a sign
	f.Add(string([]byte{3})+field[1:], record)                  // an unknown kind
	f.Add(field[:16], record)                                   // a short field
	f.Add(field, record+"0")                                    // a long record
	f.Add(field, "18446744073709551615"+"00000000000000000000") // the ends of the range
	f.Fuzz(func(t *testing.T, field, record string) {
		r, ok := decodeRecord(field, record)
		if !ok {
			return
		}
		if got := encodeField(r.Kind, r.Key); got != field {
			t.Errorf("decodeRecord(%q, %q) = %+v, which encodes to the field %q", field, record, r, got)
		}
		if got := encodeTime(r.Before.UnixNano()) + encodeTime(r.Until.UnixNano()); got != record {
			t.Errorf("decodeRecord(%q, %q) = %+v, which encodes to the record %q", field, record, r, got)
		}
		if err := r.Validate(); err != nil {
			t.Errorf("decodeRecord(%q, %q) = %+v, which fails Validate: %v", field, record, r, err)
		}
	})
}

// FuzzDecodeMessage: a message of the revocation channel decodes only when
// it is a field followed by its record, as revokeScript publishes.
func FuzzDecodeMessage(f *testing.F) {
	field, record := fuzzRecord(store.RevokeSession, 1, 0, int64(time.Hour))
	f.Add(field + record)
	f.Add(field + record + "x")
	f.Add(record + field)
	f.Add("")
	f.Fuzz(func(t *testing.T, payload string) {
		r, ok := decodeMessage(payload)
		if !ok {
			return
		}
		if got := encodeField(r.Kind, r.Key) + encodeTime(r.Before.UnixNano()) + encodeTime(r.Until.UnixNano()); got != payload {
			t.Errorf("decodeMessage(%q) = %+v, which encodes to %q", payload, r, got)
		}
	})
}

// fuzzAnswer turns bytes into an answer of the feed script: values split
// at 0xff, each typed by its first byte ('i' an integer, 's' a string,
// anything else a value of another type).
func fuzzAnswer(data []byte) []any {
	var res []any
	for _, v := range bytes.Split(data, []byte{0xff}) {
		switch {
		case len(v) > 0 && v[0] == 'i':
			n, err := strconv.ParseInt(string(v[1:]), 10, 64)
			if err != nil {
				res = append(res, string(v[1:]))
				continue
			}
			res = append(res, n)
		case len(v) > 0 && v[0] == 's':
			res = append(res, string(v[1:]))
		default:
			res = append(res, []any{string(v)})
		}
	}
	return res
}

// encodeAnswer is fuzzAnswer's inverse for the seeds.
func encodeAnswer(values ...any) []byte {
	var parts [][]byte
	for _, v := range values {
		switch v := v.(type) {
		case int64:
			parts = append(parts, []byte("i"+strconv.FormatInt(v, 10)))
		case string:
			parts = append(parts, []byte("s"+v))
		}
	}
	return bytes.Join(parts, []byte{0xff})
}

// FuzzParsePage: any answer parses to a page or to an error, never a
// panic; an entry whose record does not decode fails the whole page
// (closed: a sign-out is never skipped); a page holds only live
// revocations, at most one per entry, and says More only when full.
func FuzzParsePage(f *testing.F) {
	now := int64(time.Hour)
	f1, r1 := fuzzRecord(store.RevokeSession, 1, 0, 2*now)
	f2, r2 := fuzzRecord(store.RevokeSubject, 2, 0, now/2) // expired at now
	f.Add(encodeAnswer("epoch", int64(2), int64(0), "change", f1, r1, "1", f2, r2, "2"), 10)
	f.Add(encodeAnswer("epoch", int64(2), int64(1), "", f1, r1, "1", f2, r2, "2"), 2)
	f.Add(encodeAnswer("epoch", int64(2), int64(0), "change", f1, "", "1"), 1)
	f.Add(encodeAnswer("epoch", int64(2), int64(0), "change", f1, r1[:39], "1"), 10)
	f.Add(encodeAnswer("epoch", int64(2), int64(0), "change", f1, r1, "1e400"), 1)
	f.Add(encodeAnswer("epoch", int64(2), int64(0)), 10)
	f.Add([]byte("\xff\xff"), 0)
	s := &Store{rev: newRevocations(Options{RevocationKeyPrefix: "fuzz:"})}
	f.Fuzz(func(t *testing.T, data []byte, limit int) {
		res := fuzzAnswer(data)
		page, err := s.parsePage(res, now, limit)
		if err != nil {
			return
		}
		entries := (len(res) - 4) / 3
		if len(page.Revocations) > entries {
			t.Errorf("%d revocations from %d entries", len(page.Revocations), entries)
		}
		for i := 4; i+2 < len(res); i += 3 {
			field, _ := res[i].(string)
			record, _ := res[i+1].(string)
			if _, ok := decodeRecord(field, record); record != "" && !ok {
				t.Errorf("entry %q, %q does not decode, yet the page parsed", field, record)
			}
		}
		for _, r := range page.Revocations {
			if r.Until.UnixNano() <= now {
				t.Errorf("page holds %+v, expired at now", r)
			}
		}
		if page.More && entries != limit {
			t.Errorf("More with %d entries and a limit of %d", entries, limit)
		}
	})
}
