package engine

import (
	"net/http"
	"strings"
	"testing"
)

func TestUnderPrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, prefix string
		want         bool
	}{
		{"/health", "/health", true},
		{"/health/db", "/health", true},
		{"/health/", "/health", true},
		{"/healthz", "/health", false},
		{"/heal", "/health", false},
		{"/api/status", "/api/", true},
		{"/apix", "/api/", false},
		{"/", "/", true},
		{"/x", "/", true},
	}
	for _, tt := range tests {
		if got := underPrefix(tt.path, tt.prefix); got != tt.want {
			t.Errorf("underPrefix(%q, %q) = %v, want %v", tt.path, tt.prefix, got, tt.want)
		}
	}
}

func TestAddToList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		existing []string
		want     string
	}{
		{"empty", nil, "X-New-Token"},
		{"other header", []string{"X-Request-Id"}, "X-Request-Id, X-New-Token"},
		{"already there", []string{"x-new-token"}, "x-new-token"},
		{"in a list", []string{"A, X-New-Token ,B"}, "A, X-New-Token ,B"},
		{"two lines", []string{"A", "B"}, "A, B, X-New-Token"},
	}
	for _, tt := range tests {
		h := http.Header{}
		for _, v := range tt.existing {
			h.Add("Access-Control-Expose-Headers", v)
		}
		addToList(h, "Access-Control-Expose-Headers", HeaderNewToken)
		if got := strings.Join(h.Values("Access-Control-Expose-Headers"), " | "); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}
