package config_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/slidingjwt/slidingjwt/config"
)

// TestDeliveryFromLookup: the delivery variables parse into the settings,
// with the cookie's defaults left to CookieWithDefaults.
func TestDeliveryFromLookup(t *testing.T) {
	t.Parallel()
	s, err := withSecret(map[string]string{
		config.EnvDelivery:       "Cookie",
		config.EnvCookieName:     "sid",
		config.EnvCookieSecure:   "false",
		config.EnvCookieSameSite: "Strict",
		config.EnvCookiePath:     "/app",
		config.EnvCookieDomain:   "example.com",
		config.EnvTrustedOrigins: "https://a.example.com, http://localhost:8081",
	})
	if err != nil {
		t.Fatal(err)
	}
	got, want := s.Cookie, config.Cookie{Name: "sid", Insecure: true, SameSite: "Strict", Path: "/app", Domain: "example.com"}
	if s.Delivery != config.DeliveryCookie || got != want {
		t.Errorf("Delivery %q, Cookie %+v; want cookie, %+v", s.Delivery, got, want)
	}
	if !slices.Equal(s.TrustedOrigins, []string{"https://a.example.com", "http://localhost:8081"}) {
		t.Errorf("TrustedOrigins = %q", s.TrustedOrigins)
	}
	d := config.Default()
	if d.Delivery != config.DeliveryHeader || d.UsesCookie() {
		t.Errorf("default delivery %q, want header", d.Delivery)
	}
	c := d.CookieWithDefaults()
	if c != (config.Cookie{Name: config.DefaultCookieName, SameSite: "lax", Path: "/"}) {
		t.Errorf("cookie defaults = %+v", c)
	}
}

// TestDeliveryErrors: every bad delivery setting is an error naming its
// variable and value, and the cookie's settings are judged only when a
// cookie is used.
func TestDeliveryErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		vars    map[string]string
		wantVar string // "" for no error
		value   string
		says    string
	}{
		{"unknown delivery", map[string]string{config.EnvDelivery: "smoke"}, config.EnvDelivery, "smoke", "header"},
		{"defaults", map[string]string{config.EnvDelivery: "cookie"}, "", "", ""},
		{"both", map[string]string{config.EnvDelivery: "both"}, "", "", ""},
		{"__Host- not Secure", map[string]string{config.EnvDelivery: "cookie", config.EnvCookieSecure: "false"}, config.EnvCookieName, "__Host-session", "plain-HTTP development"},
		{"__Host- with a path", map[string]string{config.EnvDelivery: "cookie", config.EnvCookiePath: "/app"}, config.EnvCookiePath, "/app", "__Host-"},
		{"__Host- with a domain", map[string]string{config.EnvDelivery: "cookie", config.EnvCookieDomain: "example.com"}, config.EnvCookieDomain, "example.com", "__Host-"},
		{"__Secure- not Secure", map[string]string{config.EnvDelivery: "cookie", config.EnvCookieName: "__Secure-s", config.EnvCookieSecure: "no"}, config.EnvCookieName, "__Secure-s", "plain-HTTP development"},
		{"SameSite None without Secure", map[string]string{config.EnvDelivery: "both", config.EnvCookieName: "s", config.EnvCookieSecure: "false", config.EnvCookieSameSite: "None"}, config.EnvCookieSameSite, "None", "Secure"},
		{"SameSite None with Secure", map[string]string{config.EnvDelivery: "cookie", config.EnvCookieSameSite: "none"}, "", "", ""},
		{"unknown SameSite", map[string]string{config.EnvDelivery: "cookie", config.EnvCookieSameSite: "loose"}, config.EnvCookieSameSite, "loose", "lax"},
		{"bad name", map[string]string{config.EnvDelivery: "cookie", config.EnvCookieName: "a;b"}, config.EnvCookieName, "a;b", "cookie name"},
		{"relative path", map[string]string{config.EnvDelivery: "cookie", config.EnvCookieName: "s", config.EnvCookiePath: "app"}, config.EnvCookiePath, "app", "starts with /"},
		{"bad Secure", map[string]string{config.EnvDelivery: "cookie", config.EnvCookieSecure: "maybe"}, config.EnvCookieSecure, "maybe", "plain-HTTP development"},
		{"origin with a path", map[string]string{config.EnvTrustedOrigins: "https://a.example.com/x"}, config.EnvTrustedOrigins, "https://a.example.com/x", "scheme://host"},
		{"cookie settings unused in header delivery", map[string]string{config.EnvCookieName: "a;b", config.EnvCookieSameSite: "loose"}, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := withSecret(tt.vars)
			if tt.wantVar == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v, want a *config.Error", err)
			}
			if ce.Var != tt.wantVar || ce.Value != tt.value || !strings.Contains(ce.Allowed, tt.says) {
				t.Errorf("got %s=%q (%s), want %s=%q saying %q", ce.Var, ce.Value, ce.Allowed, tt.wantVar, tt.value, tt.says)
			}
		})
	}
}
