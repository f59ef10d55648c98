// Package config holds the settings of sliding token renewal: lifetimes,
// the renewal threshold and interval, validation rules and the choice of
// store, with their defaults, their environment variables and their checks.
//
// It imports neither Echo nor a store, so a program can read and check its
// settings before it builds anything else:
//
//	settings, err := config.FromEnv()
//	if err != nil {
//		log.Fatal(err) // names the variable, its value and what is allowed
//	}
//
// The environment names follow LightRAG's (TOKEN_SECRET, JWT_ALGORITHM,
// TOKEN_EXPIRE_HOURS, GUEST_TOKEN_EXPIRE_HOURS, TOKEN_AUTO_RENEW,
// TOKEN_RENEW_THRESHOLD), so a LightRAG deployment's environment file carries
// over; unlike LightRAG, a value that does not parse or is out of range is an
// error, never a silent default.
//
// The lifetimes, the session cap, the minimum renewal interval and the leeway
// (TOKEN_EXPIRE_HOURS, GUEST_TOKEN_EXPIRE_HOURS, TOKEN_MAX_SESSION_HOURS,
// TOKEN_RENEW_MIN_INTERVAL_SECONDS, TOKEN_LEEWAY_SECONDS) take either a plain
// number in the unit their name gives, as LightRAG reads them (hours for
// *_HOURS, a float such as 0.5; seconds for *_SECONDS), or a Go duration as
// time.ParseDuration reads it ("30m", "72h", "1h30m", "90s"). Both forms obey
// the same ranges.
package config

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Environment variable names read by FromEnv.
const (
	EnvSecret           = "TOKEN_SECRET"
	EnvAlgorithm        = "JWT_ALGORITHM"
	EnvUserLifetime     = "TOKEN_EXPIRE_HOURS"
	EnvGuestLifetime    = "GUEST_TOKEN_EXPIRE_HOURS"
	EnvAutoRenew        = "TOKEN_AUTO_RENEW"
	EnvRenewThreshold   = "TOKEN_RENEW_THRESHOLD"
	EnvMinRenewInterval = "TOKEN_RENEW_MIN_INTERVAL_SECONDS"
	EnvRenewSkipPaths   = "TOKEN_RENEW_SKIP_PATHS"
	EnvMaxSessionAge    = "TOKEN_MAX_SESSION_HOURS"
	EnvLeeway           = "TOKEN_LEEWAY_SECONDS"
	EnvIssuer           = "TOKEN_ISSUER"
	EnvAudience         = "TOKEN_AUDIENCE"
	EnvStore            = "TOKEN_RENEW_STORE"
	EnvStorePath        = "TOKEN_RENEW_STORE_PATH"
	EnvStoreSize        = "TOKEN_RENEW_STORE_SIZE"
	EnvRedisURL         = "TOKEN_RENEW_REDIS_URL"
	EnvPrivateKeyFile   = "TOKEN_PRIVATE_KEY_FILE"
	EnvKeyID            = "TOKEN_KEY_ID"
	EnvVerifyKeyFiles   = "TOKEN_VERIFY_KEY_FILES"
	// EnvAllowWorldReadableKey opts out of the refusal of a private key
	// file that every local user can read.
	EnvAllowWorldReadableKey = "TOKEN_PRIVATE_KEY_ALLOW_WORLD_READABLE"

	// The delivery of tokens (see Settings.Delivery and Settings.Cookie).
	EnvDelivery       = "TOKEN_DELIVERY"
	EnvCookieName     = "TOKEN_COOKIE_NAME"
	EnvCookieSecure   = "TOKEN_COOKIE_SECURE"
	EnvCookieSameSite = "TOKEN_COOKIE_SAMESITE"
	EnvCookiePath     = "TOKEN_COOKIE_PATH"
	EnvCookieDomain   = "TOKEN_COOKIE_DOMAIN"
	EnvTrustedOrigins = "TOKEN_TRUSTED_ORIGINS"
)

// Token deliveries accepted in Settings.Delivery.
const (
	// DeliveryHeader: the client sends the token in a header
	// (Authorization: Bearer) and gets a renewal in X-New-Token.
	DeliveryHeader = "header"
	// DeliveryCookie: the token lives in an HttpOnly cookie, read from it
	// and renewed with Set-Cookie; unsafe requests authenticated by it
	// must pass the cross-origin check.
	DeliveryCookie = "cookie"
	// DeliveryBoth: either; a token is renewed the way it came.
	DeliveryBoth = "both"
)

// DefaultCookieName is the session cookie's name unless Cookie.Name sets
// another. Its __Host- prefix makes browsers refuse it unless it is
// Secure, has Path=/ and no Domain, so no sibling subdomain can set it.
const DefaultCookieName = "__Host-session"

// Cookie says how the session cookie is set in cookie delivery. Its zero
// value, with Delivery "cookie", is the default: DefaultCookieName,
// Secure, SameSite=Lax, Path=/, no Domain. The cookie is always HttpOnly.
type Cookie struct {
	// Name is the cookie's name (TOKEN_COOKIE_NAME). Default
	// DefaultCookieName. A __Host- name must be Secure, with Path / and
	// no Domain; a __Secure- name must be Secure.
	Name string
	// Insecure drops the Secure attribute (TOKEN_COOKIE_SECURE=false), so
	// that a browser sends the cookie over plain HTTP: for development on
	// http:// only. Default false (Secure).
	Insecure bool
	// SameSite is "lax", "strict" or "none", in any case
	// (TOKEN_COOKIE_SAMESITE). Default "lax". "none" requires Secure.
	SameSite string
	// Path is the cookie's Path (TOKEN_COOKIE_PATH). Default "/".
	Path string
	// Domain is the cookie's Domain (TOKEN_COOKIE_DOMAIN). Default none:
	// the cookie goes to the host that set it only.
	Domain string
}

// Role names with a lifetime of their own. Any other role (or none) uses the
// user lifetime.
const (
	RoleUser  = "user"
	RoleGuest = "guest"
)

// Store backend names accepted in Settings.Store.
const (
	StoreMemory = "memory"
	StoreLRU    = "lru"
	StoreBolt   = "bolt"
	StoreRedis  = "redis"
)

// Limits enforced by Validate.
const (
	// MinSecretBytes is the shortest HMAC secret accepted: 256 bits, the
	// size RFC 7518 asks for with HS256.
	MinSecretBytes = 32
	// MinLifetime is the shortest user or guest token lifetime accepted.
	// Tokens carry whole seconds and a token's exp is its issue time plus
	// the lifetime, rounded down to a second, so a lifetime of two seconds
	// leaves every new token more than one second of validity, while one
	// under a second can make a token that has expired when it is issued
	// (exp <= iat).
	MinLifetime = 2 * time.Second
	// MinSessionAge is the shortest session cap accepted, other than 0 (no
	// cap): a shorter cap could, for the same reason, make a token that has
	// expired when it is issued.
	MinSessionAge = time.Second
	// MaxLifetime bounds every lifetime, the session cap and the minimum
	// renewal interval (ten years).
	MaxLifetime = 10 * 365 * 24 * time.Hour
	// MaxLeeway bounds the clock-skew leeway.
	MaxLeeway = 5 * time.Minute
)

// Settings are the knobs of token validation and renewal. Start from Default
// (or FromEnv), change fields, and call Validate; the middleware validates
// again when it is built. A Settings value is plain data, safe to copy.
type Settings struct {
	// Secret is the HMAC key for the HS* algorithms (TOKEN_SECRET). Required
	// for them, at least MinSecretBytes long; must be empty for the others,
	// which sign with PrivateKeyFile. Never logged or printed.
	Secret string
	// Algorithm is the JWT signing algorithm (JWT_ALGORITHM). Default
	// "HS256". "none" is always rejected.
	Algorithm string
	// UserLifetime is the lifetime of a token whose role is not "guest"
	// (TOKEN_EXPIRE_HOURS: hours as a number such as 48 or 0.5, or a Go
	// duration such as 30m or 72h). Default 48h; from MinLifetime (2s) to
	// MaxLifetime (ten years).
	UserLifetime time.Duration
	// GuestLifetime is the lifetime of a token with role "guest"
	// (GUEST_TOKEN_EXPIRE_HOURS: hours as a number, or a Go duration).
	// Default 24h; from MinLifetime (2s) to MaxLifetime (ten years).
	GuestLifetime time.Duration
	// AutoRenew turns renewal on (TOKEN_AUTO_RENEW). Default true. When
	// false, tokens are still validated but never renewed.
	AutoRenew bool
	// RenewThreshold is the fraction of a token's lifetime below which its
	// remaining time makes it due for renewal (TOKEN_RENEW_THRESHOLD), in
	// (0, 1]. Default 0.5: renew once less than half the lifetime is left.
	RenewThreshold float64
	// MinRenewInterval is the least time between two renewals of one session
	// (TOKEN_RENEW_MIN_INTERVAL_SECONDS: seconds as a number such as 60 or
	// 2.5, or a Go duration such as 90s or 2m). Default 60s; greater
	// than 0 and at most MaxLifetime (ten years). It must also be shorter
	// than RenewThreshold times the shorter lifetime, or an active session
	// could expire between two renewals.
	MinRenewInterval time.Duration
	// RenewSkipPaths lists paths whose requests are authenticated but never
	// renewed (TOKEN_RENEW_SKIP_PATHS, comma separated), such as polling
	// endpoints, so an idle page that polls does not keep its session alive.
	// An entry matches the path itself and everything below it at a "/"
	// boundary: "/health" matches "/health" and "/health/db", not "/healthz".
	// Default none.
	RenewSkipPaths []string
	// MaxSessionAge caps a session's total life, counted from its auth_time
	// (TOKEN_MAX_SESSION_HOURS: hours as a number, or a Go duration).
	// Renewal never extends a token past auth_time + MaxSessionAge. Default
	// 0: no cap. Otherwise from MinSessionAge (1s) to MaxLifetime (ten
	// years).
	MaxSessionAge time.Duration
	// Leeway tolerates clock skew when checking exp, nbf and iat
	// (TOKEN_LEEWAY_SECONDS: seconds as a number, or a Go duration). Default
	// 0; from 0 to MaxLeeway (300s).
	Leeway time.Duration
	// Issuer, when set, is written to iss and required of every token
	// (TOKEN_ISSUER). Default empty: not checked.
	Issuer string
	// Audience, when set, is written to aud and required of every token
	// (TOKEN_AUDIENCE). Default empty: not checked.
	Audience string

	// Store names the renewal store (TOKEN_RENEW_STORE): "memory", "lru",
	// "bolt" or "redis". Default "memory". slidingjwt.Open opens it (bolt
	// and redis when the program imports their packages); a door's
	// explicit Config takes a store instead and leaves this unused.
	Store string
	// StorePath is the bbolt file for Store "bolt" (TOKEN_RENEW_STORE_PATH).
	StorePath string
	// StoreSize is the entry bound for Store "lru" (TOKEN_RENEW_STORE_SIZE,
	// a whole number). Default 0, which means the lru package's default
	// size (lru.DefaultSize), whether set here or as
	// TOKEN_RENEW_STORE_SIZE=0; a negative size is an error.
	StoreSize int
	// RedisURL addresses the server for Store "redis"
	// (TOKEN_RENEW_REDIS_URL), e.g. redis://localhost:6379/0, or a Redis
	// Cluster by some of its nodes, separated by commas, e.g.
	// redis-cluster://10.0.0.1:6379,10.0.0.2:6379 (rediss-cluster:// over
	// TLS), or a primary behind Redis Sentinel, e.g.
	// redis-sentinel://10.0.0.1:26379,10.0.0.2:26379/name; see
	// store/redis.Open for every form.
	RedisURL string

	// PrivateKeyFile is the PEM file of the key that signs tokens with the
	// RS*, PS*, ES* and EdDSA algorithms (TOKEN_PRIVATE_KEY_FILE): an
	// unencrypted PKCS#8 ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY") or SEC1
	// ("EC PRIVATE KEY") block. Must be empty for HS*, which sign with
	// Secret. Required for the others unless the program builds its own key
	// set (middleware.Config.Keys): middleware.KeySetFromSettings reads the
	// file and reports a missing or unusable key, naming this variable.
	PrivateKeyFile string
	// AllowWorldReadableKey lets token.KeySetFromSettings load a
	// PrivateKeyFile that every local user may read
	// (TOKEN_PRIVATE_KEY_ALLOW_WORLD_READABLE). Default false: such a file
	// is refused, with an error naming the file and its mode. Set it only
	// where the mode cannot be changed, such as a Kubernetes secret mounted
	// with the default mode 0644; prefer defaultMode 0440 with an fsGroup.
	AllowWorldReadableKey bool
	// KeyID is the "kid" header of the tokens the signing key (Secret or
	// PrivateKeyFile) signs (TOKEN_KEY_ID). Optional. Set it before a key
	// rotation, so tokens name the key that verifies them.
	KeyID string
	// VerifyKeys are keys that verify tokens but never sign new ones
	// (TOKEN_VERIFY_KEY_FILES), typically the previous signing key during a
	// rotation: tokens it signed keep working, and each is replaced by one
	// signed with the current key at its next renewal. In the environment:
	// comma-separated "kid=path" or "kid=ALG:path" entries. Only for the
	// RS*, PS*, ES* and EdDSA algorithms. Default none.
	VerifyKeys []KeyFile

	// Delivery says how tokens travel (TOKEN_DELIVERY): "header" (the
	// default; "" means the same), "cookie" or "both". See DeliveryHeader,
	// DeliveryCookie and DeliveryBoth, and docs/cookies.md.
	Delivery string
	// Cookie sets the session cookie's name and attributes when Delivery
	// is "cookie" or "both". Optional: see Cookie for the defaults.
	Cookie Cookie
	// TrustedOrigins are origins ("https://app.example.com") besides the
	// request's own from which unsafe requests authenticated by the cookie
	// (and sign-ins) are accepted (TOKEN_TRUSTED_ORIGINS, comma
	// separated), as http.CrossOriginProtection.AddTrustedOrigin takes
	// them. Default none.
	TrustedOrigins []string
}

// UsesCookie reports whether Delivery is "cookie" or "both".
func (s Settings) UsesCookie() bool {
	return s.Delivery == DeliveryCookie || s.Delivery == DeliveryBoth
}

// CookieWithDefaults returns s.Cookie with the defaults filled in: the
// name, SameSite (lower case) and Path.
func (s Settings) CookieWithDefaults() Cookie {
	c := s.Cookie
	if c.Name == "" {
		c.Name = DefaultCookieName
	}
	c.SameSite = strings.ToLower(c.SameSite)
	if c.SameSite == "" {
		c.SameSite = "lax"
	}
	if c.Path == "" {
		c.Path = "/"
	}
	return c
}

// KeyFile is a verification key in a PEM file: a public key ("PUBLIC KEY",
// "RSA PUBLIC KEY"), a certificate, or a private key of which only the
// public half is used.
type KeyFile struct {
	// ID is the "kid" that tokens signed with the key carry. Required.
	ID string
	// Algorithm is the JWT algorithm the key verifies. Optional: by
	// default Settings.Algorithm when the key fits it, ES256/ES384/ES512
	// by the curve of an EC key, EdDSA for an Ed25519 key.
	Algorithm string
	// Path is the PEM file.
	Path string
}

// String returns the entry as written in TOKEN_VERIFY_KEY_FILES.
func (k KeyFile) String() string {
	if k.Algorithm != "" {
		return k.ID + "=" + k.Algorithm + ":" + k.Path
	}
	return k.ID + "=" + k.Path
}

// Default returns the default settings. Secret is empty, so Validate fails
// until one is set (for HS* algorithms).
func Default() Settings {
	return Settings{
		Algorithm:        "HS256",
		UserLifetime:     48 * time.Hour,
		GuestLifetime:    24 * time.Hour,
		AutoRenew:        true,
		RenewThreshold:   0.5,
		MinRenewInterval: 60 * time.Second,
		Store:            StoreMemory,
		Delivery:         DeliveryHeader,
	}
}

// Lifetime returns the configured lifetime for role: GuestLifetime for
// "guest", UserLifetime for anything else.
func (s Settings) Lifetime(role string) time.Duration {
	if role == RoleGuest {
		return s.GuestLifetime
	}
	return s.UserLifetime
}

// Error is one bad setting: the environment variable (and field) it comes
// from, the offending value, and what is allowed. Validate and FromEnv
// return these, joined with errors.Join when there are several.
type Error struct {
	// Var is the environment variable name, e.g. "TOKEN_RENEW_THRESHOLD".
	Var string
	// Value is the bad value as text, as it was written when FromEnv or
	// FromLookup read it; secrets are described, never shown.
	Value string
	// Allowed says what would be accepted.
	Allowed string
}

func (e *Error) Error() string {
	return fmt.Sprintf("config: %s=%q is not allowed: %s", e.Var, e.Value, e.Allowed)
}

func bad(name, value, allowed string) error {
	return &Error{Var: name, Value: value, Allowed: allowed}
}

// algorithms lists the accepted JWT algorithms and whether each is an HMAC.
var algorithms = map[string]bool{
	"HS256": true, "HS384": true, "HS512": true,
	"RS256": false, "RS384": false, "RS512": false,
	"PS256": false, "PS384": false, "PS512": false,
	"ES256": false, "ES384": false, "ES512": false,
	"EdDSA": false,
}

// IsHMAC reports whether alg is one of the HS* algorithms.
func IsHMAC(alg string) bool { return algorithms[alg] }

const allowedAlgorithms = "one of HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA"

// Validate checks every setting and every combination that cannot work,
// and returns all problems found, each an *Error naming the variable.
func (s Settings) Validate() error {
	return s.validate(nil)
}

// source records the text FromLookup read each setting from, so that an
// error shows a bad value as the user wrote it ("1e-14"), not as parsed and
// formatted again ("0"). A nil *source shows the formatted values.
type source struct {
	// vars maps each variable FromLookup read, other than TOKEN_SECRET,
	// to its text, trimmed. Errors about the lists TOKEN_RENEW_SKIP_PATHS
	// and TOKEN_VERIFY_KEY_FILES do not use it: they show the bad entry.
	vars map[string]string
	// keyFiles maps each TOKEN_VERIFY_KEY_FILES entry to its text.
	keyFiles map[KeyFile]string
	// parseErrs are the errors of the variables that did not parse; the
	// settings hold their defaults instead, which Validate accepts, so
	// each bad variable is reported once.
	parseErrs []error
}

// bad returns the *Error for variable name with value, formatted from the
// settings, replaced by the variable's text when the source has it.
func (src *source) bad(name, value, allowed string) error {
	if src != nil {
		if v, ok := src.vars[name]; ok {
			value = v
		}
	}
	return bad(name, value, allowed)
}

// keyFile returns k as written in TOKEN_VERIFY_KEY_FILES.
func (src *source) keyFile(k KeyFile) string {
	if src != nil {
		if v, ok := src.keyFiles[k]; ok {
			return v
		}
	}
	return k.String()
}

// Allowed texts shared by FromLookup, for a value that does not parse, and
// Validate, for one out of range. A duration variable's text names both
// forms it accepts, then its range, with the bounds written as Go durations.
var (
	allowedLifetime = allowedDuration("hours", "48, 0.5", "30m, 72h",
		fmt.Sprintf("from %gs to %gh (ten years)", MinLifetime.Seconds(), MaxLifetime.Hours()))
	allowedSessionAge = "0 (no cap), or " + allowedDuration("hours", "720, 0.5", "90m, 720h",
		fmt.Sprintf("from %gs to %gh (ten years)", MinSessionAge.Seconds(), MaxLifetime.Hours()))
	allowedInterval = allowedDuration("seconds", "60, 2.5", "90s, 2m",
		fmt.Sprintf("greater than 0 and at most %gh (ten years)", MaxLifetime.Hours()))
	allowedLeeway = allowedDuration("seconds", "5, 0.5", "500ms, 1m",
		fmt.Sprintf("from 0 to %gs", MaxLeeway.Seconds()))
	allowedThreshold = "a number greater than 0 and at most 1, e.g. 0.5 (the default: renew in the second half of the lifetime)"
	allowedStoreSize = "0 (the lru default size) or a positive whole number of entries"
	allowedStore     = "one of memory, lru, bolt, redis"
)

// allowedDuration says what a duration variable accepts: a number of unit,
// as in numbers, or a Go duration, as in durations, within bounds.
func allowedDuration(unit, numbers, durations, bounds string) string {
	return fmt.Sprintf("%s as a number (%s) or a Go duration (%s), %s", unit, numbers, durations, bounds)
}

// validate is Validate, with the values of the errors shown as src has
// them. The parse errors src holds come first, and, like any other error,
// keep the settings that are wrong together from being judged.
func (s Settings) validate(src *source) error {
	var errs []error
	if src != nil {
		errs = append(errs, src.parseErrs...)
	}
	add := func(name, value, allowed string) { errs = append(errs, src.bad(name, value, allowed)) }

	switch hmac, ok := algorithms[s.Algorithm]; {
	case strings.EqualFold(s.Algorithm, "none"):
		add(EnvAlgorithm, s.Algorithm, "unsigned tokens are never accepted; "+allowedAlgorithms)
	case !ok:
		add(EnvAlgorithm, s.Algorithm, allowedAlgorithms)
	case hmac && s.Secret == "":
		errs = append(errs, bad(EnvSecret, "", fmt.Sprintf("required for %s: a random secret of at least %d bytes", s.Algorithm, MinSecretBytes)))
	case hmac && len(s.Secret) < MinSecretBytes:
		errs = append(errs, bad(EnvSecret, fmt.Sprintf("<%d bytes>", len(s.Secret)), fmt.Sprintf("at least %d bytes for %s", MinSecretBytes, s.Algorithm)))
	case hmac && strings.Contains(s.Secret, "-----BEGIN"):
		errs = append(errs, bad(EnvSecret, "<PEM block>", "an HMAC secret, not a PEM key: a public key used as an HMAC secret lets anyone forge tokens"))
	}

	if hmac, ok := algorithms[s.Algorithm]; ok {
		errs = append(errs, s.keyErrors(hmac, src)...)
	}

	if s.UserLifetime < MinLifetime || s.UserLifetime > MaxLifetime {
		add(EnvUserLifetime, formatHours(s.UserLifetime), allowedLifetime)
	}
	if s.GuestLifetime < MinLifetime || s.GuestLifetime > MaxLifetime {
		add(EnvGuestLifetime, formatHours(s.GuestLifetime), allowedLifetime)
	}
	if s.MaxSessionAge != 0 && (s.MaxSessionAge < MinSessionAge || s.MaxSessionAge > MaxLifetime) {
		add(EnvMaxSessionAge, formatHours(s.MaxSessionAge), allowedSessionAge)
	}

	if math.IsNaN(s.RenewThreshold) || s.RenewThreshold <= 0 || s.RenewThreshold > 1 {
		add(EnvRenewThreshold, strconv.FormatFloat(s.RenewThreshold, 'g', -1, 64), allowedThreshold)
	}
	if s.MinRenewInterval <= 0 || s.MinRenewInterval > MaxLifetime {
		add(EnvMinRenewInterval, formatSeconds(s.MinRenewInterval), allowedInterval)
	}
	if s.Leeway < 0 || s.Leeway > MaxLeeway {
		add(EnvLeeway, formatSeconds(s.Leeway), allowedLeeway)
	}
	for _, p := range s.RenewSkipPaths {
		if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#") {
			errs = append(errs, bad(EnvRenewSkipPaths, p, "paths that start with / and hold no query or fragment"))
		}
	}

	s.storeErrors(add)
	s.deliveryErrors(add)

	// Settings that are fine alone but wrong together: the interval must fit
	// inside the renewal window of the shorter lifetime, or a session that is
	// refused once (rate limited) could expire before it may renew again.
	if len(errs) == 0 && s.AutoRenew {
		shortest, name := s.UserLifetime, EnvUserLifetime
		if s.GuestLifetime < shortest {
			shortest, name = s.GuestLifetime, EnvGuestLifetime
		}
		window := time.Duration(s.RenewThreshold * float64(shortest))
		if s.MinRenewInterval >= window {
			add(EnvMinRenewInterval, formatSeconds(s.MinRenewInterval), fmt.Sprintf(
				"less than %s x %s = %gs, or an active session could expire between two renewals: lower %s or raise %s",
				EnvRenewThreshold, name, window.Seconds(), EnvMinRenewInterval, name))
		}
	}
	return errors.Join(errs...)
}

// deliveryErrors passes each problem of the delivery settings to add: the
// delivery, the cookie's name and attributes (only when a cookie is used),
// and the trusted origins.
func (s Settings) deliveryErrors(add func(name, value, allowed string)) {
	switch s.Delivery {
	case "", DeliveryHeader, DeliveryCookie, DeliveryBoth:
	default:
		add(EnvDelivery, s.Delivery, "one of header (the default), cookie, both")
	}
	for _, o := range s.TrustedOrigins {
		if err := http.NewCrossOriginProtection().AddTrustedOrigin(o); err != nil {
			add(EnvTrustedOrigins, o, `origins of the form scheme://host[:port], such as https://app.example.com, without a path`)
		}
	}
	if !s.UsesCookie() {
		return
	}
	c := s.CookieWithDefaults()
	const dev = "TOKEN_COOKIE_SECURE=false is for plain-HTTP development only"
	switch {
	case !validCookieName(c.Name):
		add(EnvCookieName, c.Name, "a cookie name: printable ASCII without spaces or any of ()<>@,;:\\\"/[]?={}")
	case strings.HasPrefix(c.Name, "__Host-") && c.Insecure:
		add(EnvCookieName, c.Name, "a __Host- cookie must be Secure ("+dev+": pick a name without the prefix there)")
	case strings.HasPrefix(c.Name, "__Host-") && c.Path != "/":
		add(EnvCookiePath, c.Path, "/ for a __Host- cookie ("+c.Name+"), or a name without the prefix")
	case strings.HasPrefix(c.Name, "__Host-") && c.Domain != "":
		add(EnvCookieDomain, c.Domain, "empty for a __Host- cookie ("+c.Name+"), or a name without the prefix")
	case strings.HasPrefix(c.Name, "__Secure-") && c.Insecure:
		add(EnvCookieName, c.Name, "a __Secure- cookie must be Secure ("+dev+": pick a name without the prefix there)")
	}
	switch c.SameSite {
	case "lax", "strict":
	case "none":
		if c.Insecure {
			add(EnvCookieSameSite, s.Cookie.SameSite, "lax or strict when the cookie is not Secure: browsers refuse SameSite=None without Secure ("+dev+")")
		}
	default:
		add(EnvCookieSameSite, s.Cookie.SameSite, "one of lax (the default), strict, none")
	}
	if !strings.HasPrefix(c.Path, "/") || strings.ContainsAny(c.Path, ";\x00\r\n") {
		add(EnvCookiePath, c.Path, "a path that starts with / and holds no ;")
	}
	if strings.ContainsAny(c.Domain, "; \t\x00\r\n/:") {
		add(EnvCookieDomain, c.Domain, "a domain name such as example.com, or empty")
	}
}

// validCookieName reports whether name is a cookie name (an RFC 7230
// token).
func validCookieName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

// ValidateStore checks only the settings that choose and configure the
// renewal store (Store, StorePath, StoreSize, RedisURL), as Validate does,
// and returns all problems found, each an *Error naming the variable. A
// program that builds its store from the settings (package
// store/storeconfig) calls it; Validate includes it.
func (s Settings) ValidateStore() error {
	var errs []error
	s.storeErrors(func(name, value, allowed string) { errs = append(errs, bad(name, value, allowed)) })
	return errors.Join(errs...)
}

// storeErrors passes each problem of the store settings to add.
func (s Settings) storeErrors(add func(name, value, allowed string)) {
	switch s.Store {
	case StoreMemory, StoreLRU, StoreBolt, StoreRedis:
	default:
		add(EnvStore, s.Store, allowedStore)
	}
	if s.Store == StoreBolt && s.StorePath == "" {
		add(EnvStorePath, "", "a file path, required when "+EnvStore+"=bolt")
	}
	if s.Store == StoreRedis && s.RedisURL == "" {
		add(EnvRedisURL, "", "a URL such as redis://localhost:6379/0, required when "+EnvStore+"=redis")
	}
	if s.StoreSize < 0 {
		add(EnvStoreSize, strconv.Itoa(s.StoreSize), allowedStoreSize)
	}
}

// keyErrors checks the key settings for an algorithm that is an HMAC or
// not, with the values shown as src has them. It never shows a secret.
func (s Settings) keyErrors(hmac bool, src *source) []error {
	var errs []error
	add := func(name, value, allowed string) { errs = append(errs, src.bad(name, value, allowed)) }
	if hmac && s.PrivateKeyFile != "" {
		add(EnvPrivateKeyFile, s.PrivateKeyFile, fmt.Sprintf("empty for %s, which signs with %s; a key file needs %s set to RS*, PS*, ES* or EdDSA", s.Algorithm, EnvSecret, EnvAlgorithm))
	}
	if !hmac && s.Secret != "" {
		errs = append(errs, bad(EnvSecret, "<set>", fmt.Sprintf("empty for %s, which signs with %s: a secret that is set but never used hides a mistake", s.Algorithm, EnvPrivateKeyFile)))
	}
	if s.KeyID != "" && !validKeyID(s.KeyID) {
		add(EnvKeyID, s.KeyID, keyIDRule)
	}
	if hmac && len(s.VerifyKeys) > 0 {
		errs = append(errs, bad(EnvVerifyKeyFiles, src.keyFile(s.VerifyKeys[0]), fmt.Sprintf("empty for %s: verification key files hold RS*, PS*, ES* or EdDSA keys; rotate HMAC secrets with middleware.KeySet", s.Algorithm)))
		return errs
	}
	seen := map[string]bool{s.KeyID: s.KeyID != ""}
	for _, k := range s.VerifyKeys {
		entry := src.keyFile(k)
		switch h, known := algorithms[k.Algorithm]; {
		case !validKeyID(k.ID):
			errs = append(errs, bad(EnvVerifyKeyFiles, entry, "a key ID of "+keyIDRule))
		case seen[k.ID]:
			errs = append(errs, bad(EnvVerifyKeyFiles, entry, fmt.Sprintf("a key ID used once, by one key: %q is taken", k.ID)))
		case k.Path == "":
			errs = append(errs, bad(EnvVerifyKeyFiles, entry, "kid=path or kid=ALG:path with a file path"))
		case k.Algorithm != "" && (!known || h):
			errs = append(errs, bad(EnvVerifyKeyFiles, entry, "an algorithm that is one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA"))
		}
		seen[k.ID] = true
	}
	return errs
}

const keyIDRule = "1 to 128 printable ASCII characters other than space, comma, = and :"

// validKeyID reports whether id can name a key in TOKEN_KEY_ID and in
// TOKEN_VERIFY_KEY_FILES.
func validKeyID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' || c == ',' || c == '=' || c == ':' {
			return false
		}
	}
	return true
}

// parseKeyFiles reads TOKEN_VERIFY_KEY_FILES: comma-separated "kid=path"
// or "kid=ALG:path" entries, where ALG is a JWT algorithm name. Empty
// entries are skipped; Validate checks the rest. It records the text of
// each entry in src.
func parseKeyFiles(v string, src *source) ([]KeyFile, error) {
	var keys []KeyFile
	for _, entry := range strings.Split(v, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		id, path, ok := strings.Cut(entry, "=")
		if !ok {
			return nil, bad(EnvVerifyKeyFiles, entry, "comma-separated kid=path or kid=ALG:path entries, e.g. 2025-06=/etc/slidingjwt/old.pem")
		}
		k := KeyFile{ID: strings.TrimSpace(id), Path: strings.TrimSpace(path)}
		if alg, rest, ok := strings.Cut(k.Path, ":"); ok {
			if _, known := algorithms[alg]; known {
				k.Algorithm, k.Path = alg, strings.TrimSpace(rest)
			}
		}
		keys = append(keys, k)
		src.keyFiles[k] = entry
	}
	return keys, nil
}

func formatHours(d time.Duration) string   { return strconv.FormatFloat(d.Hours(), 'g', -1, 64) }
func formatSeconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'g', -1, 64) }

// FromEnv reads the settings from the process environment, starting from
// Default, and validates them. An unset or empty variable keeps its default.
// An error shows a bad value as it was written in the environment.
func FromEnv() (Settings, error) {
	return FromLookup(os.LookupEnv)
}

// FromLookup is FromEnv with the variables read through lookup, so tests and
// programs with their own configuration source can supply them.
func FromLookup(lookup func(name string) (string, bool)) (Settings, error) {
	s := Default()
	src := &source{vars: map[string]string{}, keyFiles: map[KeyFile]string{}}
	failed := func(name, value, allowed string) { src.parseErrs = append(src.parseErrs, bad(name, value, allowed)) }
	get := func(name string) (string, bool) {
		v, ok := lookup(name)
		v = strings.TrimSpace(v)
		if !ok || v == "" {
			return "", false
		}
		src.vars[name] = v
		return v, true
	}
	str := func(name string, dst *string) {
		if v, ok := get(name); ok {
			*dst = v
		}
	}
	duration := func(name string, unit time.Duration, allowed string, dst *time.Duration) {
		if v, ok := get(name); ok {
			d, err := parseDuration(v, unit)
			if err != nil {
				failed(name, v, allowed)
				return
			}
			*dst = d
		}
	}

	if v, ok := lookup(EnvSecret); ok { // not trimmed: every byte is key material
		s.Secret = v
	}
	str(EnvAlgorithm, &s.Algorithm)
	duration(EnvUserLifetime, time.Hour, allowedLifetime, &s.UserLifetime)
	duration(EnvGuestLifetime, time.Hour, allowedLifetime, &s.GuestLifetime)
	if v, ok := get(EnvAutoRenew); ok {
		b, err := ParseBool(v)
		if err != nil {
			failed(EnvAutoRenew, v, "true, 1, yes, t, on or false, 0, no, f, off (any case)")
		} else {
			s.AutoRenew = b
		}
	}
	if v, ok := get(EnvRenewThreshold); ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			failed(EnvRenewThreshold, v, allowedThreshold)
		} else {
			s.RenewThreshold = f
		}
	}
	duration(EnvMinRenewInterval, time.Second, allowedInterval, &s.MinRenewInterval)
	if v, ok := get(EnvRenewSkipPaths); ok {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				s.RenewSkipPaths = append(s.RenewSkipPaths, p)
			}
		}
	}
	duration(EnvMaxSessionAge, time.Hour, allowedSessionAge, &s.MaxSessionAge)
	duration(EnvLeeway, time.Second, allowedLeeway, &s.Leeway)
	str(EnvIssuer, &s.Issuer)
	str(EnvAudience, &s.Audience)
	if v, ok := get(EnvStore); ok {
		s.Store = strings.ToLower(v)
	}
	str(EnvStorePath, &s.StorePath)
	if v, ok := get(EnvStoreSize); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			failed(EnvStoreSize, v, allowedStoreSize)
		} else {
			s.StoreSize = n
		}
	}
	str(EnvRedisURL, &s.RedisURL)
	str(EnvPrivateKeyFile, &s.PrivateKeyFile)
	str(EnvKeyID, &s.KeyID)
	if v, ok := get(EnvAllowWorldReadableKey); ok {
		b, err := ParseBool(v)
		if err != nil {
			failed(EnvAllowWorldReadableKey, v, "true, 1, yes, t, on or false, 0, no, f, off (any case)")
		} else {
			s.AllowWorldReadableKey = b
		}
	}
	if v, ok := get(EnvVerifyKeyFiles); ok {
		keys, err := parseKeyFiles(v, src)
		if err != nil {
			src.parseErrs = append(src.parseErrs, err)
		} else {
			s.VerifyKeys = keys
		}
	}

	if v, ok := get(EnvDelivery); ok {
		s.Delivery = strings.ToLower(v)
	}
	str(EnvCookieName, &s.Cookie.Name)
	if v, ok := get(EnvCookieSecure); ok {
		b, err := ParseBool(v)
		if err != nil {
			failed(EnvCookieSecure, v, "true (the default), or false for plain-HTTP development only")
		} else {
			s.Cookie.Insecure = !b
		}
	}
	str(EnvCookieSameSite, &s.Cookie.SameSite)
	str(EnvCookiePath, &s.Cookie.Path)
	str(EnvCookieDomain, &s.Cookie.Domain)
	if v, ok := get(EnvTrustedOrigins); ok {
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				s.TrustedOrigins = append(s.TrustedOrigins, o)
			}
		}
	}

	// One report: what did not parse, then what parsed but is out of range
	// or does not fit the rest.
	return s, s.validate(src)
}

// ParseBool reads a boolean the way LightRAG reads TOKEN_AUTO_RENEW, but
// strictly: true, 1, yes, t, on and false, 0, no, f, off, in any case.
// Anything else is an error rather than false.
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "t", "on":
		return true, nil
	case "false", "0", "no", "f", "off":
		return false, nil
	}
	return false, fmt.Errorf("config: %q is not a boolean", v)
}

// parseDuration reads a duration variable: a finite number of units (the
// LightRAG form, "48" or "0.5" hours), rounded to the nanosecond, or else a
// Go duration as time.ParseDuration reads it ("30m", "1h30m", "-1h").
// Validate checks the range. A value other than zero never reads as zero:
// one that rounds to 0 reads as one nanosecond of its sign, so that Validate
// judges it, rather than taking it for 0, which means "no cap" in
// TOKEN_MAX_SESSION_HOURS.
func parseDuration(v string, unit time.Duration) (time.Duration, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return parseGoDuration(v)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("config: %q is not a finite number", v)
	}
	d := f * float64(unit)
	if d >= math.MaxInt64 || d <= math.MinInt64 {
		return 0, fmt.Errorf("config: %q is out of range", v)
	}
	r := math.Round(d)
	if r == 0 && f != 0 {
		r = math.Copysign(1, f)
	}
	return time.Duration(r), nil
}

// parseGoDuration is time.ParseDuration, except that a duration other than
// zero that it truncates to 0 ("0.1ns") reads as one nanosecond of its sign.
// A Go duration has no exponent, so any digit other than 0 makes it nonzero.
func parseGoDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, err
	}
	if d == 0 && strings.ContainsAny(v, "123456789") {
		d = 1
		if strings.HasPrefix(v, "-") {
			d = -1
		}
	}
	return d, nil
}
