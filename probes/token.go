package probes

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
)

// newToken returns 32 random bytes in hex.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails on Linux; it panics rather than return short
	return hex.EncodeToString(b)
}

// requireToken refuses, with 401, a request without "Authorization:
// Bearer <token>". The comparison takes the same time however much of the
// token matches, so that timing does not leak it.
func requireToken(token string, next http.Handler) http.Handler {
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gdiag"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token",
				"send Authorization: Bearer <token>; gdiag ps shows where the token is")
			return
		}
		next.ServeHTTP(w, r)
	})
}
