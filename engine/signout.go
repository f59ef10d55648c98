package engine

import (
	"context"
	"errors"
	"net/http"

	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/token"
)

// The messages of the ready-made sign-out handlers' answers.
const (
	messageSignOutShared  = "this session's user is shared (a guest): sign out this session instead"
	messageSignOutFull    = "too many sessions are being signed out: retry later"
	messageSignOutFailed  = "the sign-out could not be recorded: retry shortly"
	messageSignOutOff     = "sign-out is not available: the store keeps no revocations, or it was turned off"
	messageSignOutNoClaim = "no verified token: put the sign-out handler behind the middleware"
)

// SignOut ends the session of claims with so (everywhere: every session of
// its subject) for a ready-made sign-out handler: it sets h, the
// response's header (Cache-Control: no-store always; in cookie delivery,
// once recorded, the Set-Cookie that deletes the session cookie of d), and
// returns the answer to give: 204 when it is recorded; 403 for a subject
// several users share (a guest, revocation.ErrSharedSubject); 503 when the
// revocation cannot be recorded now (the list or the backend is full, or
// the backend is down): the client may retry; 500 when the program is
// wired wrongly (so is nil, no middleware enforces its list, or the
// handler is not behind the middleware), with the reason for the logs in
// the returned error. Every door's handlers call it, so they answer alike;
// d may be nil (header delivery).
func SignOut(ctx context.Context, so *revocation.SignOut, d *Delivery, claims *token.Claims, everywhere bool, h http.Header) (Answer, error) {
	h[headerCacheControl] = []string{"no-store"}
	ans, err := signOut(ctx, so, claims, everywhere)
	if ans.Status == http.StatusNoContent && d != nil {
		d.ClearCookie(h)
	}
	return ans, err
}

func signOut(ctx context.Context, so *revocation.SignOut, claims *token.Claims, everywhere bool) (Answer, error) {
	var err error
	switch {
	case so == nil:
		return Answer{Status: http.StatusInternalServerError, Message: messageSignOutOff}, errors.New("slidingjwt: sign-out handler without a SignOut: the store keeps no revocations, or Options.NoSignOut is set")
	case claims == nil:
		return Answer{Status: http.StatusInternalServerError, Message: messageSignOutNoClaim}, errors.New("slidingjwt: sign-out handler reached without verified claims: mount it behind the middleware")
	case everywhere:
		err = so.Everywhere(ctx, claims)
	default:
		err = so.Session(ctx, claims)
	}
	switch {
	case err == nil:
		return Answer{Status: http.StatusNoContent}, nil
	case errors.Is(err, revocation.ErrSharedSubject):
		return Answer{Status: http.StatusForbidden, Message: messageSignOutShared}, err
	case errors.Is(err, revocation.ErrNotEnforced):
		return Answer{Status: http.StatusInternalServerError, Message: messageSignOutFailed}, err
	case errors.Is(err, store.ErrRevocationsFull):
		return Answer{Status: http.StatusServiceUnavailable, Message: messageSignOutFull}, err
	}
	return Answer{Status: http.StatusServiceUnavailable, Message: messageSignOutFailed}, err
}

// WriteSignOut writes a, an answer of SignOut, on w: 204 with no body, or
// the status with {"message": ...}.
func (a Answer) WriteSignOut(w http.ResponseWriter) {
	if a.Status == http.StatusNoContent {
		w.WriteHeader(a.Status)
		return
	}
	a.Write(w)
}
