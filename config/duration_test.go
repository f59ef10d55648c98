package config_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/config"
)

// durationField returns the setting that variable name fills.
func durationField(s config.Settings, name string) time.Duration {
	switch name {
	case config.EnvUserLifetime:
		return s.UserLifetime
	case config.EnvGuestLifetime:
		return s.GuestLifetime
	case config.EnvMaxSessionAge:
		return s.MaxSessionAge
	case config.EnvMinRenewInterval:
		return s.MinRenewInterval
	case config.EnvLeeway:
		return s.Leeway
	}
	panic("not a duration variable: " + name)
}

// TestDurationForms: every duration variable takes a plain number in the
// unit its name gives (LightRAG's form) or a Go duration, and both forms of
// one length read the same.
func TestDurationForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value string
		want        time.Duration
	}{
		{config.EnvUserLifetime, "72", 72 * time.Hour},
		{config.EnvUserLifetime, "0.5", 30 * time.Minute},
		{config.EnvUserLifetime, "0.1", 6 * time.Minute},
		{config.EnvUserLifetime, "1e3", 1000 * time.Hour}, // a number, not a duration
		{config.EnvUserLifetime, "72h", 72 * time.Hour},
		{config.EnvUserLifetime, "30m", 30 * time.Minute},
		{config.EnvUserLifetime, "1h30m", 90 * time.Minute},
		{config.EnvUserLifetime, "0.5h", 30 * time.Minute},
		{config.EnvUserLifetime, "+2h", 2 * time.Hour},
		{config.EnvUserLifetime, " 2h ", 2 * time.Hour}, // trimmed, as numbers are
		{config.EnvUserLifetime, "87600h", config.MaxLifetime},
		{config.EnvGuestLifetime, "12", 12 * time.Hour},
		{config.EnvGuestLifetime, "0.25", 15 * time.Minute},
		{config.EnvGuestLifetime, "36h", 36 * time.Hour},
		{config.EnvGuestLifetime, "45m", 45 * time.Minute},
		{config.EnvMaxSessionAge, "720", 720 * time.Hour},
		{config.EnvMaxSessionAge, "0", 0},
		{config.EnvMaxSessionAge, "720h", 720 * time.Hour},
		{config.EnvMaxSessionAge, "1.5h", 90 * time.Minute},
		{config.EnvMaxSessionAge, "1s", config.MinSessionAge},
		{config.EnvMaxSessionAge, "0s", 0}, // no cap, as 0 is
		{config.EnvMinRenewInterval, "60", time.Minute},
		{config.EnvMinRenewInterval, "2.5", 2500 * time.Millisecond},
		{config.EnvMinRenewInterval, "1e3", 1000 * time.Second},
		{config.EnvMinRenewInterval, "90s", 90 * time.Second},
		{config.EnvMinRenewInterval, "2m", 2 * time.Minute},
		{config.EnvMinRenewInterval, "1500ms", 1500 * time.Millisecond},
		{config.EnvMinRenewInterval, "1h", time.Hour},
		{config.EnvMinRenewInterval, "0.1ns", time.Nanosecond}, // truncated to 0, read as above 0
		{config.EnvLeeway, "30", 30 * time.Second},
		{config.EnvLeeway, "0.5", 500 * time.Millisecond},
		{config.EnvLeeway, "0", 0},
		{config.EnvLeeway, "300", config.MaxLeeway},
		{config.EnvLeeway, "500ms", 500 * time.Millisecond},
		{config.EnvLeeway, "1m30s", 90 * time.Second},
		{config.EnvLeeway, "5m", config.MaxLeeway},
		{config.EnvLeeway, "0s", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			t.Parallel()
			s, err := withSecret(map[string]string{tt.name: tt.value})
			if err != nil {
				t.Fatalf("FromLookup(%s=%q): %v", tt.name, tt.value, err)
			}
			if got := durationField(s, tt.name); got != tt.want {
				t.Errorf("%s=%q reads as %v, want %v", tt.name, tt.value, got, tt.want)
			}
		})
	}
}

// TestDurationErrors: a duration variable that does not parse, or parses
// out of range, in either form, is an error that names the variable, shows
// the value as written and names both accepted forms.
func TestDurationErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value string
	}{
		// Not a number nor a Go duration.
		{config.EnvUserLifetime, "abc"},
		{config.EnvUserLifetime, "2d"},     // no such unit
		{config.EnvUserLifetime, "2H"},     // units are lower case
		{config.EnvUserLifetime, "48 h"},   // no space inside
		{config.EnvUserLifetime, "1h 30m"}, // nor between parts
		{config.EnvUserLifetime, "1e3s"},   // no exponent in a duration
		{config.EnvUserLifetime, "h"},
		{config.EnvGuestLifetime, "1d"},
		{config.EnvMaxSessionAge, "forever"},
		{config.EnvMinRenewInterval, "1min"},
		{config.EnvLeeway, "5sec"},
		// Not finite, or too large for a time.Duration.
		{config.EnvUserLifetime, "NaN"},
		{config.EnvUserLifetime, "Inf"},
		{config.EnvGuestLifetime, "-Inf"},
		{config.EnvUserLifetime, "1e300"},
		{config.EnvUserLifetime, "3000000h"},
		{config.EnvMaxSessionAge, "2562048h"},
		{config.EnvMinRenewInterval, "NaN"},
		{config.EnvLeeway, "Inf"},
		// Out of range, in both forms alike.
		{config.EnvUserLifetime, "-1"},
		{config.EnvUserLifetime, "-1h"},
		{config.EnvUserLifetime, "0"},
		{config.EnvUserLifetime, "0s"},
		{config.EnvUserLifetime, "1s"}, // under MinLifetime
		{config.EnvUserLifetime, "87601"},
		{config.EnvUserLifetime, "87601h"},
		{config.EnvGuestLifetime, "-30m"},
		{config.EnvMaxSessionAge, "-1h"},
		{config.EnvMaxSessionAge, "500ms"},        // under MinSessionAge
		{config.EnvMaxSessionAge, "0.1ns"},        // truncated to 0, yet not "no cap"
		{config.EnvMaxSessionAge, "87600h0m1s"},   // over MaxLifetime
		{config.EnvMinRenewInterval, "0s"},        // must be above 0
		{config.EnvMinRenewInterval, "-1s"},       //
		{config.EnvMinRenewInterval, "87600h1ns"}, // over MaxLifetime
		{config.EnvLeeway, "-1s"},
		{config.EnvLeeway, "-0.1ns"}, // truncated to 0, yet negative
		{config.EnvLeeway, "301"},
		{config.EnvLeeway, "5m1s"},
		{config.EnvLeeway, "1h"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			t.Parallel()
			_, err := withSecret(map[string]string{tt.name: tt.value})
			ce := errorFor(err, tt.name)
			if ce == nil {
				t.Fatalf("FromLookup(%s=%q) = %v; want a *config.Error for %s", tt.name, tt.value, err, tt.name)
			}
			if want := strings.TrimSpace(tt.value); ce.Value != want {
				t.Errorf("Value = %q, want %q as written", ce.Value, want)
			}
			msg := ce.Error()
			for _, want := range []string{tt.name + "=" + strconv.Quote(ce.Value), "as a number (", "or a Go duration ("} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
		})
	}
}

// TestDurationErrorMessage: the whole text of an error about a duration
// variable, per variable.
func TestDurationErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value, want string
	}{
		{config.EnvUserLifetime, "abc",
			`config: TOKEN_EXPIRE_HOURS="abc" is not allowed: hours as a number (48, 0.5) or a Go duration (30m, 72h), from 2s to 87600h (ten years)`},
		{config.EnvGuestLifetime, "1s",
			`config: GUEST_TOKEN_EXPIRE_HOURS="1s" is not allowed: hours as a number (48, 0.5) or a Go duration (30m, 72h), from 2s to 87600h (ten years)`},
		{config.EnvMaxSessionAge, "-1h",
			`config: TOKEN_MAX_SESSION_HOURS="-1h" is not allowed: 0 (no cap), or hours as a number (720, 0.5) or a Go duration (90m, 720h), from 1s to 87600h (ten years)`},
		{config.EnvMinRenewInterval, "1min",
			`config: TOKEN_RENEW_MIN_INTERVAL_SECONDS="1min" is not allowed: seconds as a number (60, 2.5) or a Go duration (90s, 2m), greater than 0 and at most 87600h (ten years)`},
		{config.EnvLeeway, "10m",
			`config: TOKEN_LEEWAY_SECONDS="10m" is not allowed: seconds as a number (5, 0.5) or a Go duration (500ms, 1m), from 0 to 300s`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := withSecret(map[string]string{tt.name: tt.value})
			ce := errorFor(err, tt.name)
			if ce == nil {
				t.Fatalf("FromLookup(%s=%q) = %v; want a *config.Error for %s", tt.name, tt.value, err, tt.name)
			}
			if got := ce.Error(); got != tt.want {
				t.Errorf("error\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestDurationsTogether: the interval is judged against the lifetimes in
// whichever form each is written.
func TestDurationsTogether(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		vars    map[string]string
		wantErr bool
	}{
		{"durations that fit", map[string]string{config.EnvGuestLifetime: "5m", config.EnvMinRenewInterval: "1m"}, false},
		{"a number and a duration that fit", map[string]string{config.EnvGuestLifetime: "0.1", config.EnvMinRenewInterval: "90s"}, false},
		{"durations that do not fit", map[string]string{config.EnvGuestLifetime: "2m", config.EnvMinRenewInterval: "1m"}, true},
		{"a duration and a number that do not fit", map[string]string{config.EnvUserLifetime: "2m", config.EnvMinRenewInterval: "60"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := withSecret(tt.vars)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("FromLookup(%q) = %v, want no error", tt.vars, err)
				}
				return
			}
			ce := errorFor(err, config.EnvMinRenewInterval)
			if ce == nil || !strings.Contains(ce.Allowed, "could expire between two renewals") {
				t.Errorf("FromLookup(%q) = %v; want the interval refused as too long for the lifetime", tt.vars, err)
			}
		})
	}
}
