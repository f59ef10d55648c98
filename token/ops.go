package token

import "github.com/slidingjwt/slidingjwt/internal/tokenops"

// The operations only package engine needs go to it through
// internal/tokenops, so they are not part of this package's API.
func init() {
	tokenops.Table = tokenops.Ops[*Verified, *Issuer, *Verifier]{
		VerifyHit:         (*Verifier).verifyHit,
		SessionKey:        (*Verified).sessionKey,
		SessionRevKey:     (*Verified).sessionRevKey,
		SubjectRevKey:     (*Verified).subjectRevKey,
		Lifetime:          (*Verified).lifetimeLen,
		AuthTime:          (*Verified).authStart,
		RenewedAt:         (*Verified).renewedAtNanos,
		MarkRenewed:       (*Verified).markRenewed,
		RenewalExpiry:     (*Issuer).expiryOfRenewal,
		SignRenewal:       (*Issuer).signRenewal,
		RenewedSize:       (*Issuer).renewedSize,
		Headroom:          (*Issuer).headroom,
		RenewalClaims:     (*Issuer).renewalClaims,
		SignRenewalClaims: (*Issuer).signRenewalClaims,
	}
}
