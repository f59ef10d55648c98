package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// clientModules are the JS client's modules (client/ at the repository's
// root) that `make client-copy` copies into static/, where the demo embeds
// them.
var clientModules = []string{"client.js", "axios.js"}

// TestClientCopy fails when the demo's copy of a client module differs
// from client/, the package's own: the page must run the package as it is
// published. `make client-copy` (which `make demo` runs) brings them in
// line.
func TestClientCopy(t *testing.T) {
	for _, name := range clientModules {
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("..", "..", "client", name))
			if err != nil {
				t.Fatalf("reading the package's module: %v", err)
			}
			got, err := staticFiles.ReadFile("static/" + name)
			if err != nil {
				t.Fatalf("the demo embeds no static/%s: run make client-copy (%v)", name, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("static/%s (embedded, %d bytes) differs from client/%s (%d bytes): run make client-copy", name, len(got), name, len(want))
			}
		})
	}
}
