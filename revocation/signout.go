package revocation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/token"
)

// SignOut ends sessions: the calls a /logout handler makes. It computes
// how long each revocation must last from the settings the middleware
// verifies tokens with, and records it in a List, which every front door
// checks (Config.Revocations). A SignOut is safe for concurrent use.
type SignOut struct {
	list *List
	// longest is the longest lifetime a token can have; slack is the
	// leeway plus the List's Margin. No token a revocation matches can be
	// accepted later than its cut-off plus longest plus slack, nor after
	// its own exp plus slack.
	longest, slack time.Duration
	now            func() time.Time
}

// NewSignOut returns a SignOut recording in list for tokens verified with
// settings s (the middleware's Settings). now is the clock; nil means
// time.Now.
func NewSignOut(list *List, s config.Settings, now func() time.Time) (*SignOut, error) {
	if list == nil {
		return nil, errors.New("revocation: NewSignOut: the List is nil")
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &SignOut{list: list, longest: LongestLifetime(s), slack: s.Leeway + list.Margin(), now: now}, nil
}

// LongestLifetime is the longest lifetime a token accepted with settings s
// can have: the longer of the user and guest lifetimes. With a List
// configured, the middleware refuses tokens minted elsewhere with a longer
// one (exp - iat, or exp - now for a token without iat, beyond it plus the
// leeway), so that no revoked token outlives its revocation.
func LongestLifetime(s config.Settings) time.Duration {
	return max(s.UserLifetime, s.GuestLifetime)
}

// Session revokes the session of claims (Claims.Session: the token, every
// renewal of it, and any other token of that session), on every instance.
// From when it returns, the token gets 401 here; other instances refuse it
// within their catch-up period (at once with Redis pub/sub). It fails with
// an error wrapping store.ErrRevocationsFull when the list is full (answer
// 503), or with the backend's error.
func (so *SignOut) Session(ctx context.Context, claims *token.Claims) error {
	if claims == nil || claims.Session == "" {
		return errors.New("revocation: SignOut.Session: no session to revoke (nil claims)")
	}
	// The token's own exp, and any renewal: one made now, or by an
	// instance that has not heard of this revocation yet (within slack).
	until := so.now().Add(so.longest)
	if claims.ExpiresAt.After(until) {
		until = claims.ExpiresAt
	}
	return so.list.RevokeSession(ctx, store.SessionRevocationKey(claims.Session), until.Add(so.slack))
}

// Subject revokes every session of sub that began before before ("log out
// everywhere", a password change): tokens whose auth_time (else iat) is
// before it. JWT times are whole seconds, so before is rounded up to the
// next whole second: tokens issued earlier in that second are revoked too,
// and a sign-in within it needs a retry. Guests share one subject: revoke
// their sessions one by one instead. Errors are those of Session.
func (so *SignOut) Subject(ctx context.Context, sub string, before time.Time) error {
	if sub == "" {
		return errors.New("revocation: SignOut.Subject: empty subject")
	}
	if t := before.Truncate(time.Second); !t.Equal(before) {
		before = t.Add(time.Second)
	}
	until := before.Add(so.longest + so.slack)
	if !until.After(so.now()) {
		return fmt.Errorf("revocation: SignOut.Subject: a cut-off of %s revokes nothing that can still be accepted", before.Format(time.RFC3339))
	}
	return so.list.RevokeSubject(ctx, store.SubjectRevocationKey(sub), before, until)
}
