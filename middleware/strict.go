package middleware

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"
)

// Checks a signed token must pass beyond what golang-jwt checks. They run
// only after the signature verified, so an attacker without the key cannot
// make the middleware do this work.
var (
	// errDuplicateName: the header or the claims hold one name twice in an
	// object. RFC 7519 lets a parser keep the last one (encoding/json
	// does), but a proxy or another service reading the same token may
	// keep the first, and a renewal would re-sign one reading of an
	// ambiguous token; such tokens typically come from an issuer that
	// builds JSON by pasting strings, so they are refused.
	errDuplicateName = errors.New("the header or the claims name a member twice")
	// errCritical: the header has a "crit" member. It lists extensions the
	// reader must understand (RFC 7515, 4.1.11); this one understands none.
	errCritical = errors.New(`the header lists "crit" extensions, none of which is supported`)
	errJSON     = errors.New("malformed JSON")
)

// checkJOSE refuses a verified token whose header has "crit" or whose
// header or claims repeat a name in one object.
func checkJOSE(raw string, header map[string]any) error {
	if _, ok := header["crit"]; ok {
		return errCritical
	}
	head, rest, _ := strings.Cut(raw, ".")
	payload, _, _ := strings.Cut(rest, ".")
	for _, seg := range [...]string{head, payload} {
		data, err := base64.RawURLEncoding.DecodeString(seg)
		if err != nil {
			return errJSON // cannot happen: the parser decoded it already
		}
		if err := uniqueNames(data); err != nil {
			return err
		}
	}
	return nil
}

// maxJSONDepth bounds the nesting uniqueNames follows, as encoding/json
// bounds its own.
const maxJSONDepth = 10000

// uniqueNames returns errDuplicateName when an object in the JSON text data
// has two members whose names decode to the same string, and errJSON when
// data is not JSON it can read. It only reads: data was accepted by
// encoding/json already, so it checks structure, not every detail of the
// grammar.
func uniqueNames(data []byte) error {
	s := nameScanner{data: data}
	if err := s.value(0); err != nil {
		return err
	}
	s.space()
	if s.i != len(s.data) {
		return errJSON
	}
	return nil
}

type nameScanner struct {
	data []byte
	i    int
}

func (s *nameScanner) space() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips space and returns the next byte without consuming it, or 0
// at the end.
func (s *nameScanner) next() byte {
	s.space()
	if s.i < len(s.data) {
		return s.data[s.i]
	}
	return 0
}

func (s *nameScanner) value(depth int) error {
	switch s.next() {
	case '{':
		return s.object(depth + 1)
	case '[':
		return s.array(depth + 1)
	case '"':
		_, err := s.str()
		return err
	case 0, ',', ':', '}', ']':
		return errJSON
	}
	// A number, true, false or null: it runs to the next delimiter.
	start := s.i
	for s.i < len(s.data) && !delimiter(s.data[s.i]) {
		s.i++
	}
	if s.i == start {
		return errJSON
	}
	return nil
}

func delimiter(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ',', ':', '{', '}', '[', ']', '"':
		return true
	}
	return false
}

func (s *nameScanner) array(depth int) error {
	if depth > maxJSONDepth {
		return errJSON
	}
	s.i++ // [
	if s.next() == ']' {
		s.i++
		return nil
	}
	for {
		if err := s.value(depth); err != nil {
			return err
		}
		switch s.next() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return errJSON
		}
	}
}

// smallObject is how many names an object may have before they are kept in
// a map rather than compared one by one.
const smallObject = 16

func (s *nameScanner) object(depth int) error {
	if depth > maxJSONDepth {
		return errJSON
	}
	s.i++ // {
	if s.next() == '}' {
		s.i++
		return nil
	}
	var buf [smallObject][]byte
	names := buf[:0]
	var many map[string]struct{}
	for {
		if s.next() != '"' {
			return errJSON
		}
		name, err := s.str()
		if err != nil {
			return err
		}
		switch {
		case many != nil:
			if _, dup := many[string(name)]; dup {
				return errDuplicateName
			}
			many[string(name)] = struct{}{}
		default:
			for _, n := range names {
				if bytes.Equal(n, name) {
					return errDuplicateName
				}
			}
			if len(names) < smallObject {
				names = append(names, name)
				break
			}
			many = make(map[string]struct{}, 2*smallObject)
			for _, n := range names {
				many[string(n)] = struct{}{}
			}
			many[string(name)] = struct{}{}
		}
		if s.next() != ':' {
			return errJSON
		}
		s.i++
		if err := s.value(depth); err != nil {
			return err
		}
		switch s.next() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errJSON
		}
	}
}

// str consumes a string and returns its value as encoding/json would
// decode it (escapes resolved, invalid UTF-8 replaced), without copying
// when it holds neither escapes nor non-ASCII bytes.
func (s *nameScanner) str() ([]byte, error) {
	start := s.i // the opening quote
	s.i++
	plain := true
	for s.i < len(s.data) {
		switch c := s.data[s.i]; {
		case c == '"':
			s.i++
			lit := s.data[start:s.i]
			if plain {
				return lit[1 : len(lit)-1], nil
			}
			var v string
			if err := json.Unmarshal(lit, &v); err != nil {
				return nil, errJSON
			}
			return []byte(v), nil
		case c == '\\':
			plain = false
			s.i += 2
		case c >= utf8.RuneSelf:
			plain = false
			s.i++
		default:
			s.i++
		}
	}
	return nil, errJSON
}
