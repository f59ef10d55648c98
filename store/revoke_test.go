package store_test

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/store"
)

func TestRevocationKeys(t *testing.T) {
	t.Parallel()
	sum := sha256.Sum256([]byte("sid\x00abc"))
	if got := store.SessionRevocationKey("abc"); string(got[:]) != string(sum[:16]) {
		t.Errorf("SessionRevocationKey(abc) = %s, want the first 16 bytes of SHA-256(\"sid\\x00abc\")", got)
	}
	sum = sha256.Sum256([]byte("sub\x00abc"))
	if got := store.SubjectRevocationKey("abc"); string(got[:]) != string(sum[:16]) {
		t.Errorf("SubjectRevocationKey(abc) = %s, want the first 16 bytes of SHA-256(\"sub\\x00abc\")", got)
	}
	tests := []struct {
		name string
		a, b store.RevocationKey
	}{
		{"session and subject of the same text", store.SessionRevocationKey("alice"), store.SubjectRevocationKey("alice")},
		{"two sessions", store.SessionRevocationKey("a"), store.SessionRevocationKey("b")},
		{"empty and NUL", store.SessionRevocationKey(""), store.SessionRevocationKey("\x00")},
	}
	for _, tt := range tests {
		if tt.a == tt.b {
			t.Errorf("%s: both keys are %s; want distinct keys", tt.name, tt.a)
		}
	}
	k := store.SessionRevocationKey("alice")
	if got := k.String(); len(got) != 32 || strings.Trim(got, "0123456789abcdef") != "" {
		t.Errorf("String() = %q; want 32 lower-case hex digits", got)
	}
}

func TestRevocationMerge(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	a := store.Revocation{Kind: store.RevokeSubject, Before: base, Until: base.Add(time.Hour)}
	b := store.Revocation{Kind: store.RevokeSubject, Before: base.Add(time.Minute), Until: base.Add(30 * time.Minute)}
	for _, got := range []store.Revocation{a.Merge(b), b.Merge(a)} {
		if !got.Before.Equal(b.Before) || !got.Until.Equal(a.Until) {
			t.Errorf("Merge = before %v until %v; want the later of each: %v, %v", got.Before, got.Until, b.Before, a.Until)
		}
	}
	if got := a.Merge(a); got != a {
		t.Errorf("a.Merge(a) = %+v, want a", got)
	}
}

func TestRevocationValidate(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	good := store.Revocation{Kind: store.RevokeSession, Before: base, Until: base.Add(time.Hour)}
	tests := []struct {
		name   string
		change func(*store.Revocation)
		want   string // "" for valid
		range_ bool   // wraps ErrTimeRange
	}{
		{"valid session", func(*store.Revocation) {}, "", false},
		{"valid subject", func(r *store.Revocation) { r.Kind = store.RevokeSubject }, "", false},
		{"zero kind", func(r *store.Revocation) { r.Kind = 0 }, "kind 0", false},
		{"zero Before", func(r *store.Revocation) { r.Before = time.Time{} }, "Before", true},
		{"Until in 3000", func(r *store.Revocation) { r.Until = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }, "Until", true},
	}
	for _, tt := range tests {
		r := good
		tt.change(&r)
		err := r.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Validate = %v, want nil", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: Validate = %v; want an error naming %q", tt.name, err, tt.want)
		case tt.range_ && !errors.Is(err, store.ErrTimeRange):
			t.Errorf("%s: Validate = %v; want it to wrap ErrTimeRange", tt.name, err)
		}
	}
	if got, want := store.RevocationKind(9).String(), "RevocationKind(9)"; got != want {
		t.Errorf("String of an unknown kind = %q, want %q", got, want)
	}
}
