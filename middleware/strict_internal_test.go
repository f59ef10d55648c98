package middleware

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestUniqueNames(t *testing.T) {
	t.Parallel()
	many := func(dup bool) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range 40 {
			fmt.Fprintf(&b, `"k%d":%d,`, i, i)
		}
		if dup {
			b.WriteString(`"k7":0,`)
		}
		b.WriteString(`"last":true}`)
		return b.String()
	}
	tests := []struct {
		name, json string
		want       error
	}{
		{"empty object", `{}`, nil},
		{"claims", `{"sub":"alice","exp":1,"metadata":{"auth_mode":"enabled"},"aud":["a","b"]}`, nil},
		{"same name in different objects", `{"a":{"a":1},"b":[{"a":1},{"a":2}]}`, nil},
		{"names that differ only by case", `{"sub":1,"Sub":2}`, nil},
		{"whitespace everywhere", " {\n\t\"a\" : [ 1 , { \"b\" : null } ] , \"c\" : \"x\" } \r\n", nil},
		{"escaped quote in a value", `{"a":"say \"a\":1","b":2}`, nil},
		{"forty names", many(false), nil},
		{"scalars", `"a"`, nil},
		{"duplicate at the top", `{"exp":1,"sub":"a","exp":2}`, errDuplicateName},
		{"duplicate nested", `{"m":{"x":1,"x":1}}`, errDuplicateName},
		{"duplicate in an object in an array", `[{"x":1},{"y":1,"y":2}]`, errDuplicateName},
		{"duplicate through an escape", `{"sub":"a","s\u0075b":"b"}`, errDuplicateName},
		{"duplicate through an escaped solidus", `{"a/b":1,"a\/b":2}`, errDuplicateName},
		{"duplicate among forty names", many(true), errDuplicateName},
		{"invalid UTF-8 names decode alike", "{\"\xff\":1,\"\xfe\":2}", errDuplicateName},
		{"unterminated string", `{"a`, errJSON},
		{"unterminated object", `{"a":1`, errJSON},
		{"missing colon", `{"a" 1}`, errJSON},
		{"name not a string", `{1:2}`, errJSON},
		{"trailing data", `{}{}`, errJSON},
		{"empty", ``, errJSON},
		{"lone comma", `[,]`, errJSON},
		{"too deep", strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1), errJSON},
	}
	for _, tt := range tests {
		if got := uniqueNames([]byte(tt.json)); !errors.Is(got, tt.want) {
			t.Errorf("%s: uniqueNames(%.60q) = %v, want %v", tt.name, tt.json, got, tt.want)
		}
	}
}

func TestUniqueNamesAllocations(t *testing.T) {
	// Not parallel: AllocsPerRun reads process-wide counters.
	claims := []byte(`{"sub":"alice","role":"user","sid":"s","jti":"j","iat":1,"exp":2,"auth_time":1,"metadata":{"auth_mode":"enabled"},"team":"blue"}`)
	if got := testing.AllocsPerRun(100, func() { _ = uniqueNames(claims) }); got != 0 {
		t.Errorf("uniqueNames allocates %v times for plain claims, want 0", got)
	}
}
