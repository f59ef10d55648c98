package config_test

import (
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/config"
)

// configErrors returns the *config.Error values in err, which may join
// several.
func configErrors(err error) []*config.Error {
	switch e := err.(type) {
	case *config.Error:
		return []*config.Error{e}
	case interface{ Unwrap() []error }:
		var out []*config.Error
		for _, inner := range e.Unwrap() {
			out = append(out, configErrors(inner)...)
		}
		return out
	}
	return nil
}

// errorFor returns the first *config.Error in err about variable name, or
// nil.
func errorFor(err error, name string) *config.Error {
	for _, ce := range configErrors(err) {
		if ce.Var == name {
			return ce
		}
	}
	return nil
}

// TestLifetimeBounds: lifetimes shorter than config.MinLifetime, and
// session caps other than 0 shorter than config.MinSessionAge, are refused,
// since tokens carry whole seconds and such a token can expire when it is
// issued.
func TestLifetimeBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  func(*config.Settings)
		wantVar string // "" when the settings are valid
	}{
		{"user lifetime of 720 ms", func(s *config.Settings) { s.UserLifetime = 720 * time.Millisecond }, config.EnvUserLifetime},
		{"guest lifetime just under 2 s", func(s *config.Settings) { s.GuestLifetime = 2*time.Second - time.Nanosecond }, config.EnvGuestLifetime},
		{"guest lifetime of 1 ns", func(s *config.Settings) { s.GuestLifetime = time.Nanosecond }, config.EnvGuestLifetime},
		{"lifetimes of 2 s", func(s *config.Settings) {
			s.UserLifetime, s.GuestLifetime, s.MinRenewInterval = 2*time.Second, 2*time.Second, 500*time.Millisecond
		}, ""},
		{"lifetime of ten years", func(s *config.Settings) { s.UserLifetime = config.MaxLifetime }, ""},
		{"lifetime over ten years", func(s *config.Settings) { s.UserLifetime = config.MaxLifetime + time.Nanosecond }, config.EnvUserLifetime},
		{"session cap of 500 ms", func(s *config.Settings) { s.MaxSessionAge = 500 * time.Millisecond }, config.EnvMaxSessionAge},
		{"session cap of 1 ns", func(s *config.Settings) { s.MaxSessionAge = time.Nanosecond }, config.EnvMaxSessionAge},
		{"session cap of 1 s", func(s *config.Settings) { s.MaxSessionAge = time.Second }, ""},
		{"no session cap", func(s *config.Settings) { s.MaxSessionAge = 0 }, ""},
		{"negative session cap", func(s *config.Settings) { s.MaxSessionAge = -time.Hour }, config.EnvMaxSessionAge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := config.Default()
			s.Secret = secret
			tt.mutate(&s)
			err := s.Validate()
			got := ""
			if ces := configErrors(err); len(ces) > 0 {
				got = ces[0].Var
			}
			if got != tt.wantVar || (err == nil) != (tt.wantVar == "") {
				t.Errorf("Validate() = %v; want an error about %q (\"\" for none)", err, tt.wantVar)
			}
		})
	}
}

// TestEnvErrorShowsValueAsWritten: an error about a variable shows its
// value as it was written in the environment, not reformatted after
// parsing.
func TestEnvErrorShowsValueAsWritten(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		vars    map[string]string
		wantVar string
		want    string
	}{
		{"lifetime that rounds to 0 ns", map[string]string{config.EnvUserLifetime: "1e-14"}, config.EnvUserLifetime, "1e-14"},
		{"lifetime of 720 ms", map[string]string{config.EnvUserLifetime: "0.0002"}, config.EnvUserLifetime, "0.0002"},
		{"guest lifetime in exponent form", map[string]string{config.EnvGuestLifetime: "2.0e-4"}, config.EnvGuestLifetime, "2.0e-4"},
		{"guest lifetime with spaces", map[string]string{config.EnvGuestLifetime: " 0.00 "}, config.EnvGuestLifetime, "0.00"},
		{"session cap that rounds to 0 ns", map[string]string{config.EnvMaxSessionAge: "1e-14"}, config.EnvMaxSessionAge, "1e-14"},
		{"negative session cap that rounds to 0 ns", map[string]string{config.EnvMaxSessionAge: "-1e-300"}, config.EnvMaxSessionAge, "-1e-300"},
		{"session cap over ten years", map[string]string{config.EnvMaxSessionAge: "1e5"}, config.EnvMaxSessionAge, "1e5"},
		{"interval of 0.0", map[string]string{config.EnvMinRenewInterval: "0.0"}, config.EnvMinRenewInterval, "0.0"},
		{"interval over ten years", map[string]string{config.EnvMinRenewInterval: "4e8"}, config.EnvMinRenewInterval, "4e8"},
		{"interval too long for the guest lifetime", map[string]string{
			config.EnvGuestLifetime: "0.02", config.EnvMinRenewInterval: "60.0",
		}, config.EnvMinRenewInterval, "60.0"},
		{"leeway of an hour", map[string]string{config.EnvLeeway: "3.6e3"}, config.EnvLeeway, "3.6e3"},
		{"negative leeway that rounds to 0 ns", map[string]string{config.EnvLeeway: "-1e-14"}, config.EnvLeeway, "-1e-14"},
		{"threshold with a trailing zero", map[string]string{config.EnvRenewThreshold: "1.50"}, config.EnvRenewThreshold, "1.50"},
		{"store in capitals", map[string]string{config.EnvStore: "ETCD"}, config.EnvStore, "ETCD"},
		{"store size", map[string]string{config.EnvStoreSize: "-01"}, config.EnvStoreSize, "-01"},
		{"algorithm", map[string]string{config.EnvAlgorithm: " NONE "}, config.EnvAlgorithm, "NONE"},
		{"verification key entry with spaces", map[string]string{
			config.EnvSecret: "", config.EnvAlgorithm: "ES256", config.EnvPrivateKeyFile: "/k.pem",
			config.EnvVerifyKeyFiles: "a=/a.pem, old = HS256:/old.pem ",
		}, config.EnvVerifyKeyFiles, "old = HS256:/old.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := withSecret(tt.vars)
			ce := errorFor(err, tt.wantVar)
			if ce == nil {
				t.Fatalf("FromLookup(%q) error = %v; want a *config.Error for %s", tt.vars, err, tt.wantVar)
			}
			if got := ce.Value; got != tt.want {
				t.Errorf("%s: Value = %q, want %q (error %q)", tt.wantVar, got, tt.want, ce)
			}
		})
	}
}

// TestAllowedMatchesCode: what an error says is allowed is what the code
// accepts, and what the Settings docs and the README say.
func TestAllowedMatchesCode(t *testing.T) {
	t.Parallel()
	const (
		lifetime   = "hours as a number (48, 0.5) or a Go duration (30m, 72h), from 2s to 87600h (ten years)"
		sessionCap = "0 (no cap), or hours as a number (720, 0.5) or a Go duration (90m, 720h), from 1s to 87600h (ten years)"
		interval   = "seconds as a number (60, 2.5) or a Go duration (90s, 2m), greater than 0 and at most 87600h (ten years)"
		leeway     = "seconds as a number (5, 0.5) or a Go duration (500ms, 1m), from 0 to 300s"
		size       = "0 (the lru default size) or a positive whole number of entries"
	)
	tests := []struct {
		name    string
		vars    map[string]string
		wantVar string // "" when the variables are valid
		want    string // the Allowed text
	}{
		{"lifetime too short", map[string]string{config.EnvUserLifetime: "0.0005"}, config.EnvUserLifetime, lifetime},
		{"lifetime not a number", map[string]string{config.EnvGuestLifetime: "1d"}, config.EnvGuestLifetime, lifetime},
		{"cap too short", map[string]string{config.EnvMaxSessionAge: "0.0001"}, config.EnvMaxSessionAge, sessionCap},
		{"cap too short as a duration", map[string]string{config.EnvMaxSessionAge: "500ms"}, config.EnvMaxSessionAge, sessionCap},
		{"lifetime over ten years as a duration", map[string]string{config.EnvUserLifetime: "87601h"}, config.EnvUserLifetime, lifetime},
		{"interval negative as a duration", map[string]string{config.EnvMinRenewInterval: "-1s"}, config.EnvMinRenewInterval, interval},
		{"leeway over 5m as a duration", map[string]string{config.EnvLeeway: "5m1s"}, config.EnvLeeway, leeway},
		{"cap not a number", map[string]string{config.EnvMaxSessionAge: "never"}, config.EnvMaxSessionAge, sessionCap},
		{"interval over ten years", map[string]string{config.EnvMinRenewInterval: "315360001"}, config.EnvMinRenewInterval, interval},
		{"interval not a number", map[string]string{config.EnvMinRenewInterval: "1 m"}, config.EnvMinRenewInterval, interval},
		{"interval negative", map[string]string{config.EnvMinRenewInterval: "-5"}, config.EnvMinRenewInterval, interval},
		{"leeway negative", map[string]string{config.EnvLeeway: "-1"}, config.EnvLeeway, leeway},
		{"leeway not a number", map[string]string{config.EnvLeeway: "5sec"}, config.EnvLeeway, leeway},
		{"store size negative", map[string]string{config.EnvStoreSize: "-1"}, config.EnvStoreSize, size},
		{"store size not a number", map[string]string{config.EnvStoreSize: "1e3"}, config.EnvStoreSize, size},
		{"store size 0 is the default", map[string]string{config.EnvStore: "lru", config.EnvStoreSize: "0"}, "", ""},
		{"lifetime of 2 s", map[string]string{
			config.EnvUserLifetime: "0.000556", config.EnvGuestLifetime: "0.000556", config.EnvMinRenewInterval: "0.5",
		}, "", ""},
		{"cap of 1 s", map[string]string{config.EnvMaxSessionAge: "0.000278"}, "", ""},
		{"interval that rounds to 0 ns is above 0", map[string]string{config.EnvMinRenewInterval: "1e-14"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := withSecret(tt.vars)
			if tt.wantVar == "" {
				if err != nil {
					t.Fatalf("FromLookup(%q) = %v, want no error", tt.vars, err)
				}
				return
			}
			ce := errorFor(err, tt.wantVar)
			if ce == nil {
				t.Fatalf("FromLookup(%q) error = %v; want a *config.Error for %s", tt.vars, err, tt.wantVar)
			}
			if got := ce.Allowed; got != tt.want {
				t.Errorf("%s=%q: Allowed = %q, want %q", tt.wantVar, ce.Value, got, tt.want)
			}
		})
	}
}

// TestValidateAllowedMatchesCode: Validate, given Settings rather than
// variables, states the same ranges.
func TestValidateAllowedMatchesCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  func(*config.Settings)
		wantVar string
		want    string
	}{
		{"interval over ten years", func(s *config.Settings) { s.MinRenewInterval = config.MaxLifetime + time.Second },
			config.EnvMinRenewInterval, "seconds as a number (60, 2.5) or a Go duration (90s, 2m), greater than 0 and at most 87600h (ten years)"},
		{"store size negative", func(s *config.Settings) { s.StoreSize = -1 },
			config.EnvStoreSize, "0 (the lru default size) or a positive whole number of entries"},
		{"user lifetime of 1 s", func(s *config.Settings) { s.UserLifetime = time.Second },
			config.EnvUserLifetime, "hours as a number (48, 0.5) or a Go duration (30m, 72h), from 2s to 87600h (ten years)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := config.Default()
			s.Secret = secret
			tt.mutate(&s)
			err := s.Validate()
			ce := errorFor(err, tt.wantVar)
			if ce == nil {
				t.Fatalf("Validate() = %v; want a *config.Error for %s", err, tt.wantVar)
			}
			if got := ce.Allowed; got != tt.want {
				t.Errorf("Allowed = %q, want %q", got, tt.want)
			}
		})
	}
}
