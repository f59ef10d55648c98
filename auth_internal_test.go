package slidingjwt

import (
	"errors"
	"testing"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

// closeRecorder is a memory store, revocations included, whose Close
// records when it is called: how often, and whether the Auth's list was
// still running then.
type closeRecorder struct {
	*memory.Store
	auth      *Auth
	err       error // what Close returns
	calls     int
	listReady bool // the list's Ready at the first Close
}

func (r *closeRecorder) Close() error {
	r.calls++
	if r.calls == 1 {
		r.listReady = r.auth.list.Ready()
	}
	return errors.Join(r.Store.Close(), r.err)
}

// TestCloseOrder: Close stops the list before it closes a store Open
// opened (the list reads the store in the background), closes each once
// however often it is called, and returns the store's error the first
// time only.
func TestCloseOrder(t *testing.T) {
	t.Parallel()
	errStore := errors.New("the store failed to close")
	tests := []struct {
		name    string
		err     error // what the store's Close returns
		wantErr error // what the first Close of the Auth wraps; nil for none
	}{
		{"store closes", nil, nil},
		{"store fails to close", errStore, errStore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := config.Default()
			s.Secret = "close-order-secret-0123456789abcdef-01"
			rec := &closeRecorder{Store: memory.New(nil), err: tt.err}
			a, err := Open(t.Context(), s, &Options{Store: rec})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if a.list == nil || !a.list.Ready() {
				t.Fatalf("the Auth has no ready list over the recorder; want sign-out on")
			}
			// The store given is the Auth's to close in this test, as if
			// Open had opened it.
			a.owned = true
			rec.auth = a

			err = a.Close()
			if tt.wantErr == nil && err != nil {
				t.Errorf("first Close = %v, want nil", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("first Close = %v, want an error wrapping %v", err, tt.wantErr)
			}
			if got, want := rec.calls, 1; got != want {
				t.Fatalf("the store was closed %d times by the first Close, want %d", got, want)
			}
			if rec.listReady {
				t.Error("the store was closed while the list still ran; want the list closed first")
			}
			for i := range 2 {
				if err := a.Close(); err != nil {
					t.Errorf("Close number %d = %v, want nil", i+2, err)
				}
			}
			if got, want := rec.calls, 1; got != want {
				t.Errorf("the store was closed %d times after three Closes, want %d", got, want)
			}
		})
	}
}
