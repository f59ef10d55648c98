//go:build unix

package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slidingjwt/slidingjwt/config"
)

// writeECKey writes a new P-256 private key (PKCS#8 PEM) to dir/name with
// mode, and returns its path and the key.
func writeECKey(t *testing.T, dir, name string, mode fs.FileMode) (string, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile's mode is masked by the umask
		t.Fatal(err)
	}
	return path, key
}

// ecSettings are settings for ES256 with the private key in path.
func ecSettings(path string) config.Settings {
	s := config.Default()
	s.Algorithm = "ES256"
	s.PrivateKeyFile = path
	return s
}

// loadsKey fails t unless keys signs with key.
func loadsKey(t *testing.T, keys *KeySet, key *ecdsa.PrivateKey) {
	t.Helper()
	pub, ok := keys.snap.Load().current.verify.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		t.Errorf("the key set signs with %T %v, want the file's key", keys.snap.Load().current.verify, pub)
	}
}

// refusedWorldReadable fails t unless err refuses the key file at path for
// its mode, naming the file, the mode and the opt-out.
func refusedWorldReadable(t *testing.T, err error, path, mode string) {
	t.Helper()
	var cerr *config.Error
	if !errors.As(err, &cerr) || cerr.Var != config.EnvPrivateKeyFile {
		t.Fatalf("error %v, want a *config.Error for %s", err, config.EnvPrivateKeyFile)
	}
	for _, want := range []string{path, mode, "TOKEN_PRIVATE_KEY_ALLOW_WORLD_READABLE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

// TestKeyFileMode: a private key file every local user can read is refused,
// unless the settings allow it; group-readable files are fine; a symbolic
// link is judged by the file it reaches.
func TestKeyFileMode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mode    fs.FileMode
		refused bool
	}{
		{0o600, false},
		{0o400, false},
		{0o640, false},
		{0o440, false},
		{0o660, false},
		{0o644, true},
		{0o604, true},
		{0o444, true},
		{0o666, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%04o", tt.mode), func(t *testing.T) {
			t.Parallel()
			path, key := writeECKey(t, t.TempDir(), "key.pem", tt.mode)
			keys, err := KeySetFromSettings(ecSettings(path))
			if !tt.refused {
				if err != nil {
					t.Fatalf("mode %04o: %v, want the key loaded", tt.mode, err)
				}
				loadsKey(t, keys, key)
				return
			}
			refusedWorldReadable(t, err, path, fmt.Sprintf("%04o", tt.mode))
			allowed := ecSettings(path)
			allowed.AllowWorldReadableKey = true
			keys, err = KeySetFromSettings(allowed)
			if err != nil {
				t.Fatalf("mode %04o with AllowWorldReadableKey: %v, want the key loaded", tt.mode, err)
			}
			loadsKey(t, keys, key)
		})
	}
}

// TestKeyFileModeSymlink: the mode of a link (0777 on Linux) does not
// matter; that of the file it reaches, through a chain of links as in a
// Kubernetes secret volume, does.
func TestKeyFileModeSymlink(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		mode    fs.FileMode
		refused bool
	}{{"to 0600", 0o600, false}, {"to 0644", 0o644, true}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			_, key := writeECKey(t, dir, "real.pem", tt.mode)
			// key.pem -> ..data/key.pem -> ../real.pem, as a secret
			// volume links ..data to a timestamped directory.
			if err := os.Mkdir(filepath.Join(dir, "..data"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join("..", "real.pem"), filepath.Join(dir, "..data", "key.pem")); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(dir, "key.pem")
			if err := os.Symlink(filepath.Join("..data", "key.pem"), link); err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
				t.Fatalf("%s is not a symbolic link: %v", link, err)
			} else if fi.Mode().Perm()&0o004 == 0 {
				t.Logf("links here are not world-readable (%v): the case shows less", fi.Mode())
			}
			keys, err := KeySetFromSettings(ecSettings(link))
			if tt.refused {
				refusedWorldReadable(t, err, link, "0644")
				return
			}
			if err != nil {
				t.Fatalf("a link to a %04o file: %v, want the key loaded", tt.mode, err)
			}
			loadsKey(t, keys, key)
		})
	}
}

// TestKeyFileModeFromEnv: TOKEN_PRIVATE_KEY_ALLOW_WORLD_READABLE=true, read
// by config.FromLookup, lets a world-readable key file load.
func TestKeyFileModeFromEnv(t *testing.T) {
	t.Parallel()
	path, key := writeECKey(t, t.TempDir(), "key.pem", 0o644)
	for _, tt := range []struct {
		allow   string // "": unset
		refused bool
	}{{"", true}, {"false", true}, {"0", true}, {"true", false}, {"1", false}, {"TRUE", false}} {
		t.Run("allow="+tt.allow, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{
				config.EnvAlgorithm:      "ES256",
				config.EnvPrivateKeyFile: path,
			}
			if tt.allow != "" {
				env[config.EnvAllowWorldReadableKey] = tt.allow
			}
			s, err := config.FromLookup(func(name string) (string, bool) { v, ok := env[name]; return v, ok })
			if err != nil {
				t.Fatalf("FromLookup: %v", err)
			}
			keys, err := KeySetFromSettings(s)
			if tt.refused {
				refusedWorldReadable(t, err, path, "0644")
				return
			}
			if err != nil {
				t.Fatalf("KeySetFromSettings: %v, want the key loaded", err)
			}
			loadsKey(t, keys, key)
		})
	}
}

// TestKeyFileModeVerifyKeys: verification keys are public; their mode is
// not checked.
func TestKeyFileModeVerifyKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path, _ := writeECKey(t, dir, "key.pem", 0o600)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&other.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPath := filepath.Join(dir, "old.pub.pem")
	if err := os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(pubPath, 0o644); err != nil {
		t.Fatal(err)
	}
	s := ecSettings(path)
	s.KeyID = "new"
	s.VerifyKeys = []config.KeyFile{{ID: "old", Path: pubPath}}
	if _, err := KeySetFromSettings(s); err != nil {
		t.Errorf("a 0644 public key file: %v, want it loaded", err)
	}
}
