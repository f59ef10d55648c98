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

// ErrSharedSubject is the error of a sign-out everywhere of a subject that
// several users share: a guest's (LightRAG gives every guest the subject
// "guest"), a token without sub, or a subject listed in
// SignOutOptions.SharedSubjects. Ending every session of such a subject
// would end other users' sessions, so SignOut refuses it; a handler
// answers 403 and can still end the caller's own session with
// SignOut.Session. An operator who means it calls SignOut.SharedSubject.
var ErrSharedSubject = errors.New("revocation: the subject is shared by several users; signing it out everywhere would end their sessions too")

// ErrNotEnforced is the error of a sign-out recorded in a List that no
// middleware of this process checks (see List.Enforce): the middleware was
// built without Config.Revocations, or with another List, and the
// signed-out token would go on working here. Build the middleware and the
// SignOut from the same value (slidingjwt.Open), or set the middleware's
// Config.Revocations to this List.
var ErrNotEnforced = errors.New("revocation: no middleware of this process checks this revocation list, so a sign-out would not end the session here: build the middleware with the same List (Config.Revocations) or from the same slidingjwt.Auth")

// DefaultSharedSubjects is the default of SignOutOptions.SharedSubjects:
// the subject LightRAG, and this module's demo, give every guest.
var DefaultSharedSubjects = []string{"guest"}

// SignOutOptions configures a SignOut. The zero value (or nil) gives the
// defaults.
type SignOutOptions struct {
	// SharedSubjects are subjects several users share, such as the one
	// every guest gets: Subject and Everywhere refuse them with
	// ErrSharedSubject. Optional. Default DefaultSharedSubjects (nil gives
	// it; an empty, non-nil slice lists none).
	SharedSubjects []string
	// Now is the clock the revocations are computed with: the middleware's
	// (Config.Now). Optional. Default time.Now.
	Now func() time.Time
	// ForOtherProcesses lets the SignOut record in a List that no
	// middleware of this process enforces: for a program that signs users
	// out on behalf of the instances that serve them (an admin tool on the
	// same backend). Optional. Default false: such a sign-out fails with
	// ErrNotEnforced.
	ForOtherProcesses bool
}

// SignOut ends sessions: the calls a /logout handler makes. It computes
// how long each revocation must last from the settings the middleware
// verifies tokens with, and records it in a List, which every front door
// checks (Config.Revocations). A SignOut is safe for concurrent use.
type SignOut struct {
	list *List
	// longest is the longest lifetime a token can have; slack is the
	// leeway plus the List's Margin. No token a revocation matches can be
	// accepted later than longest plus slack after the revocation reached
	// the List (or after its cut-off, when that is later), nor later than
	// its own exp plus slack.
	longest, slack time.Duration
	shared         map[string]bool
	now            func() time.Time
	remote         bool // SignOutOptions.ForOtherProcesses
}

// NewSignOut returns a SignOut recording in list for tokens verified with
// settings s (the middleware's Settings). opts may be nil.
func NewSignOut(list *List, s config.Settings, opts *SignOutOptions) (*SignOut, error) {
	if list == nil {
		return nil, errors.New("revocation: NewSignOut: the List is nil")
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var o SignOutOptions
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SharedSubjects == nil {
		o.SharedSubjects = DefaultSharedSubjects
	}
	shared := make(map[string]bool, len(o.SharedSubjects))
	for _, sub := range o.SharedSubjects {
		if sub == "" {
			return nil, errors.New(`revocation: SignOutOptions.SharedSubjects lists "": a token without sub is always shared`)
		}
		shared[sub] = true
	}
	return &SignOut{list: list, longest: LongestLifetime(s), slack: s.Leeway + list.Margin(), shared: shared, now: o.Now, remote: o.ForOtherProcesses}, nil
}

// LongestLifetime is the longest lifetime a token accepted with settings s
// can have: the longer of the user and guest lifetimes, rounded up to a
// whole second, since iat and exp are whole seconds (a 3.6-second
// lifetime gives tokens whose exp - iat is 3 or 4 seconds, by the
// fraction of the second they were issued in). With a List configured,
// the middleware refuses tokens minted elsewhere with a longer one (exp -
// iat, or exp - now for a token without iat, beyond it plus the leeway),
// so that no revoked token outlives its revocation.
func LongestLifetime(s config.Settings) time.Duration {
	longest := max(s.UserLifetime, s.GuestLifetime)
	if r := longest % time.Second; r != 0 {
		longest += time.Second - r
	}
	return longest
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
	key := store.SessionRevocationKey(claims.Session)
	// The token's own exp, and any renewal: one made until the List
	// learned the revocation, or by an instance that has not heard of it
	// yet (within slack).
	return so.record(func(now time.Time) time.Time {
		return later(now.Add(so.longest), claims.ExpiresAt).Add(so.slack)
	}, func(until time.Time) error {
		return so.list.RevokeSession(ctx, key, until)
	})
}

// Everywhere signs out every session of the caller's subject ("log out
// everywhere"): Subject with the cut-off now. It refuses, with
// ErrSharedSubject and changing nothing, a token that has no sub, a guest's
// (role "guest") and one whose subject is listed as shared.
func (so *SignOut) Everywhere(ctx context.Context, claims *token.Claims) error {
	if claims == nil {
		return errors.New("revocation: SignOut.Everywhere: nil claims")
	}
	switch {
	case claims.Subject == "":
		return fmt.Errorf("%w: the token has no sub", ErrSharedSubject)
	case claims.Role == config.RoleGuest:
		return fmt.Errorf("%w: a guest's token (role %q)", ErrSharedSubject, config.RoleGuest)
	}
	return so.Subject(ctx, claims.Subject, so.now())
}

// Subject revokes every session of sub that began before before ("log out
// everywhere", a password change), on every instance: the tokens whose
// auth_time (else iat) is before it, for as long as any of them could
// still be accepted, renewed or not, also when before lies in the past.
//
// The cut-off has microsecond precision, as the auth_time the Issuer
// writes: a session begun at or after before, such as a sign-in in the
// same handler just after the sign-out, stays valid, while one begun
// earlier, in the same second too, is revoked. A token without auth_time
// and iat has no known start and is revoked whatever the cut-off.
//
// It refuses a subject listed as shared with ErrSharedSubject (see
// SharedSubject). Other errors are those of Session.
func (so *SignOut) Subject(ctx context.Context, sub string, before time.Time) error {
	if so.shared[sub] {
		return fmt.Errorf("%w: %q is listed in SignOutOptions.SharedSubjects", ErrSharedSubject, token.SanitizeSubject(sub))
	}
	return so.SharedSubject(ctx, sub, before)
}

// SharedSubject is Subject without the check for a shared subject: it
// ends every session of sub, every guest's for the guest subject. It is
// meant for an operator who means it, not for a handler a user can reach.
func (so *SignOut) SharedSubject(ctx context.Context, sub string, before time.Time) error {
	if sub == "" {
		return errors.New("revocation: SignOut.Subject: empty subject")
	}
	before = before.Truncate(time.Microsecond)
	key := store.SubjectRevocationKey(sub)
	// A session begun before the cut-off may have been renewed until the
	// List learned the revocation, or on another instance until it heard
	// of it (within slack): its newest token lives one lifetime from then.
	return so.record(func(now time.Time) time.Time {
		return later(before, now).Add(so.longest + so.slack)
	}, func(until time.Time) error {
		return so.list.RevokeSubject(ctx, key, before, until)
	})
}

// record writes a revocation whose end, computed by until from a reading
// of the clock, must be no earlier than until(the moment the write
// returned): a write that took so long that the end falls short is
// written again with the later end, which merges into the first.
func (so *SignOut) record(until func(now time.Time) time.Time, write func(until time.Time) error) error {
	if !so.remote && !so.list.enforced.Load() {
		return ErrNotEnforced
	}
	u := until(so.now())
	if err := write(u); err != nil {
		return err
	}
	if v := until(so.now()); v.After(u) {
		if err := write(v); err != nil {
			return fmt.Errorf("revocation: the sign-out is recorded, but extending it for the time its write took failed (sign out again): %w", err)
		}
	}
	return nil
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
