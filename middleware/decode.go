package middleware

import (
	"encoding/json"
	"reflect"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// decodedClaims is a JWT header or claims set, decoded from JSON text that
// encoding/json has found valid (json.Valid, or json.Unmarshal, which checks
// the text before it hands it to an Unmarshaler; nesting depth included).
// UnmarshalJSON therefore only ever sees valid JSON, and builds from it the
// very values json.Unmarshal would put in a jwt.MapClaims (float64 numbers,
// strings with invalid UTF-8 and lone surrogates replaced by U+FFFD,
// map[string]any, []any, bool, nil; the last of duplicate names wins), in
// one pass and without reflection: decoding is most of the cost of a parse.
type decodedClaims struct {
	jwt.MapClaims
	// duplicate is set when an object in the claims names a member twice
	// (after unescaping), which checkJOSE would refuse; see checkDecoded.
	duplicate bool
}

// UnmarshalJSON implements json.Unmarshaler for valid JSON text.
func (c *decodedClaims) UnmarshalJSON(data []byte) error {
	// One string for the whole text: names, strings without escapes and
	// numbers are cut from it instead of allocated one by one.
	d := claimsDecoder{data: data, text: string(data)}
	d.space()
	switch d.peek() {
	case 'n': // null leaves the claims empty, as it leaves a MapClaims
		return nil
	case '{':
	default:
		return &json.UnmarshalTypeError{Value: jsonKind(d.peek()), Type: reflect.TypeFor[jwt.MapClaims]()}
	}
	m, err := d.object()
	if err != nil {
		return err
	}
	c.duplicate = d.duplicate
	if c.MapClaims == nil {
		c.MapClaims = m
		return nil
	}
	for k, v := range m {
		c.MapClaims[k] = v
	}
	return nil
}

// jsonKind names the JSON value starting with c, as encoding/json's
// UnmarshalTypeError does.
func jsonKind(c byte) string {
	switch c {
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	}
	return "number"
}

// claimsDecoder decodes valid JSON text.
type claimsDecoder struct {
	data      []byte
	text      string // data as a string
	i         int
	duplicate bool // an object named a member twice
}

func (d *claimsDecoder) peek() byte {
	if d.i < len(d.data) {
		return d.data[d.i]
	}
	return 0
}

func (d *claimsDecoder) space() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *claimsDecoder) value() (any, error) {
	d.space()
	switch d.peek() {
	case '{':
		return d.object()
	case '[':
		return d.array()
	case '"':
		return d.str(), nil
	case 't':
		d.i += len("true")
		return true, nil
	case 'f':
		d.i += len("false")
		return false, nil
	case 'n':
		d.i += len("null")
		return nil, nil
	}
	start := d.i
	for d.i < len(d.data) {
		switch c := d.data[d.i]; {
		case '0' <= c && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			d.i++
			continue
		}
		break
	}
	s := d.text[start:d.i]
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, &json.UnmarshalTypeError{Value: "number " + s, Type: reflect.TypeFor[float64](), Offset: int64(d.i)}
	}
	return f, nil
}

func (d *claimsDecoder) object() (map[string]any, error) {
	m := make(map[string]any)
	d.i++ // {
	d.space()
	if d.peek() == '}' {
		d.i++
		return m, nil
	}
	for {
		d.space()
		key := d.str()
		d.space()
		d.i++ // :
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		n := len(m)
		m[key] = v
		if len(m) == n {
			d.duplicate = true
		}
		d.space()
		if d.peek() == ',' {
			d.i++
			continue
		}
		d.i++ // }
		return m, nil
	}
}

func (d *claimsDecoder) array() ([]any, error) {
	a := make([]any, 0)
	d.i++ // [
	d.space()
	if d.peek() == ']' {
		d.i++
		return a, nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		d.space()
		if d.peek() == ',' {
			d.i++
			continue
		}
		d.i++ // ]
		return a, nil
	}
}

// str decodes the string at d.i, which starts with its quote.
func (d *claimsDecoder) str() string {
	d.i++ // "
	start := d.i
	// The common case: no escape and valid UTF-8, copied as it is.
	for d.i < len(d.data) {
		c := d.data[d.i]
		if c == '"' {
			s := d.text[start:d.i]
			d.i++
			return s
		}
		if c == '\\' {
			break
		}
		if c < utf8.RuneSelf {
			d.i++
			continue
		}
		r, size := utf8.DecodeRune(d.data[d.i:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		d.i += size
	}
	b := make([]byte, 0, d.i-start+16)
	b = append(b, d.data[start:d.i]...)
	for d.i < len(d.data) {
		c := d.data[d.i]
		switch {
		case c == '"':
			d.i++
			return string(b)
		case c == '\\':
			d.i++
			switch e := d.data[d.i]; e {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(d.data[d.i+1 : d.i+5])
				d.i += 4
				if utf16.IsSurrogate(r) {
					// A valid pair is consumed whole; anything else
					// becomes U+FFFD, as encoding/json does.
					if d.i+6 < len(d.data) && d.data[d.i+1] == '\\' && d.data[d.i+2] == 'u' {
						if dec := utf16.DecodeRune(r, hex4(d.data[d.i+3:d.i+7])); dec != unicode.ReplacementChar {
							d.i += 6
							b = utf8.AppendRune(b, dec)
							break
						}
					}
					r = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, r)
			default: // '"', '\\', '/'
				b = append(b, e)
			}
			d.i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			d.i++
		default:
			r, size := utf8.DecodeRune(d.data[d.i:])
			d.i += size
			b = utf8.AppendRune(b, r) // invalid UTF-8 becomes U+FFFD
		}
	}
	return string(b) // unreachable for valid JSON
}

// hex4 decodes four hex digits, which valid JSON guarantees.
func hex4(s []byte) rune {
	var r rune
	for _, c := range s {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// checkDecoded is checkJOSE for a token parseToken parsed: its decoders
// have already seen whether the header or the claims repeat a name.
func checkDecoded(header map[string]any, headerDup, claimsDup bool) error {
	if _, ok := header["crit"]; ok {
		return errCritical
	}
	if headerDup || claimsDup {
		return errDuplicateName
	}
	return nil
}
