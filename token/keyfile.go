package token

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/slidingjwt/slidingjwt/config"
)

// envAllowWorldReadable names the opt-out in errors.
const envAllowWorldReadable = config.EnvAllowWorldReadableKey

// maxKeyFileBytes bounds what is read of a key file. A PEM RSA-8192 private
// key is under 7 KB; anything much larger is the wrong file.
const maxKeyFileBytes = 256 << 10

// readKeyFile reads a PEM file of at most maxKeyFileBytes.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeyFileBytes {
		return nil, fmt.Errorf("larger than %d KiB: not a key file", maxKeyFileBytes>>10)
	}
	return data, nil
}

// pemKeyBlocks returns the PEM blocks of data that can hold a key, skipping
// the "EC PARAMETERS" block openssl writes before an EC key.
func pemKeyBlocks(data []byte) ([]*pem.Block, error) {
	var blocks []*pem.Block
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type == "EC PARAMETERS" {
			continue
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
			return nil, errors.New("the key is encrypted: store it unencrypted, readable only by the service (e.g. openssl pkey -in enc.pem -out key.pem)")
		}
		blocks = append(blocks, b)
	}
	switch len(blocks) {
	case 0:
		return nil, errors.New("no PEM block found")
	case 1:
		return blocks, nil
	}
	// A certificate chain: the first certificate is the key's.
	if blocks[0].Type == "CERTIFICATE" {
		return blocks[:1], nil
	}
	return nil, fmt.Errorf("%d PEM blocks found: put one key in a file", len(blocks))
}

// parsePrivateKeyPEM returns the private key in data: PKCS#8, PKCS#1 or
// SEC1, unencrypted.
func parsePrivateKeyPEM(data []byte) (any, error) {
	blocks, err := pemKeyBlocks(data)
	if err != nil {
		return nil, err
	}
	b := blocks[0]
	switch b.Type {
	case "PRIVATE KEY":
		key, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PKCS#8 block: %w", err)
		}
		return key, nil
	case "RSA PRIVATE KEY":
		key, err := x509.ParsePKCS1PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PKCS#1 block: %w", err)
		}
		return key, nil
	case "EC PRIVATE KEY":
		key, err := x509.ParseECPrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("SEC1 block: %w", err)
		}
		return key, nil
	}
	return nil, fmt.Errorf("a %q PEM block is not a private key", b.Type)
}

// parsePublicKeyPEM returns the public key in data: a PKIX or PKCS#1 public
// key, the key of a certificate, or the public half of a private key.
func parsePublicKeyPEM(data []byte) (any, error) {
	blocks, err := pemKeyBlocks(data)
	if err != nil {
		return nil, err
	}
	b := blocks[0]
	switch b.Type {
	case "PUBLIC KEY":
		key, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PKIX block: %w", err)
		}
		return key, nil
	case "RSA PUBLIC KEY":
		key, err := x509.ParsePKCS1PublicKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PKCS#1 block: %w", err)
		}
		return key, nil
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate: %w", err)
		}
		return cert.PublicKey, nil
	}
	key, err := parsePrivateKeyPEM(data)
	if err != nil {
		return nil, err
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return &k.PublicKey, nil
	case *ecdsa.PrivateKey:
		return &k.PublicKey, nil
	case ed25519.PrivateKey:
		return k.Public(), nil
	}
	return nil, fmt.Errorf("a %T key has no JWT algorithm", key)
}

// verifyAlgorithm picks the algorithm of a verification key whose entry
// names none: the signing algorithm when the key fits it, else the only
// algorithm an EC or Ed25519 key can have. An RSA key with a non-RSA
// signing algorithm is ambiguous (RS* or PS*) and must be named.
func verifyAlgorithm(signing string, key any) (string, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if strings.HasPrefix(signing, "RS") || strings.HasPrefix(signing, "PS") {
			return signing, nil
		}
		return "", errors.New("an RSA key: name its algorithm, as kid=RS256:path or kid=PS256:path")
	case *ecdsa.PublicKey:
		if k.Curve == nil {
			break
		}
		switch k.Curve.Params().BitSize {
		case 256:
			return "ES256", nil
		case 384:
			return "ES384", nil
		case 521:
			return "ES512", nil
		}
	case ed25519.PublicKey:
		return "EdDSA", nil
	}
	return "", fmt.Errorf("a %T key has no JWT algorithm", key)
}

// KeySetFromSettings builds the key set the settings describe: for the HS*
// algorithms the secret; for the others the private key in
// Settings.PrivateKeyFile, plus the verify-only keys of Settings.VerifyKeys.
// The current key gets Settings.KeyID. The settings are validated first;
// a key file that cannot be used is a *config.Error naming the variable
// and the file (never the key).
func KeySetFromSettings(s config.Settings) (*KeySet, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if config.IsHMAC(s.Algorithm) {
		return NewKeySet(Key{ID: s.KeyID, Algorithm: s.Algorithm, Material: []byte(s.Secret)})
	}
	if s.PrivateKeyFile == "" {
		return nil, &config.Error{Var: config.EnvPrivateKeyFile, Allowed: fmt.Sprintf(
			"required for %s=%s: the path of a PEM private key (PKCS#8, PKCS#1 or SEC1); or build a KeySet and set Config.Keys", config.EnvAlgorithm, s.Algorithm)}
	}
	fileErr := func(name, path string, err error) error {
		return &config.Error{Var: name, Value: path, Allowed: "a PEM key file that can be used: " + strings.TrimPrefix(err.Error(), "slidingjwt: ")}
	}
	if !s.AllowWorldReadableKey {
		if err := checkKeyFileMode(s.PrivateKeyFile); err != nil {
			return nil, fileErr(config.EnvPrivateKeyFile, s.PrivateKeyFile, err)
		}
	}
	data, err := readKeyFile(s.PrivateKeyFile)
	if err != nil {
		return nil, fileErr(config.EnvPrivateKeyFile, s.PrivateKeyFile, err)
	}
	priv, err := parsePrivateKeyPEM(data)
	if err != nil {
		return nil, fileErr(config.EnvPrivateKeyFile, s.PrivateKeyFile, err)
	}
	current := Key{ID: s.KeyID, Algorithm: s.Algorithm, Material: priv}
	if _, err := checkKey(current); err != nil {
		return nil, fileErr(config.EnvPrivateKeyFile, s.PrivateKeyFile, err)
	}
	others := make([]Key, 0, len(s.VerifyKeys))
	for _, kf := range s.VerifyKeys {
		data, err := readKeyFile(kf.Path)
		if err != nil {
			return nil, fileErr(config.EnvVerifyKeyFiles, kf.String(), err)
		}
		pub, err := parsePublicKeyPEM(data)
		if err != nil {
			return nil, fileErr(config.EnvVerifyKeyFiles, kf.String(), err)
		}
		alg := kf.Algorithm
		if alg == "" {
			if alg, err = verifyAlgorithm(s.Algorithm, pub); err != nil {
				return nil, fileErr(config.EnvVerifyKeyFiles, kf.String(), err)
			}
		}
		k := Key{ID: kf.ID, Algorithm: alg, Material: pub}
		if _, err := checkKey(k); err != nil {
			return nil, fileErr(config.EnvVerifyKeyFiles, kf.String(), err)
		}
		others = append(others, k)
	}
	return NewKeySet(current, others...)
}
