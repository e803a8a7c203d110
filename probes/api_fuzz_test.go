package probes

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
)

// FuzzAPI serves requests built from fuzzed methods, paths and queries,
// with or without the bearer token, and checks that the API answers with
// a documented status and, for errors, a JSON body. The maximum capture
// is tiny so that captures end fast.
func FuzzAPI(f *testing.F) {
	seeds := []struct {
		method, path, query string
		auth                byte
	}{
		{"GET", "/v1/info", "", 1},
		{"GET", "/v1/snapshot", "", 1},
		{"GET", "/v1/history", "", 0},
		{"GET", "/v1/goroutines", "min_wait=1s&state=running&max_groups=3", 1},
		{"GET", "/v1/profile/cpu", "seconds=0.001", 1},
		{"GET", "/v1/profile/heap", "debug=1", 1},
		{"GET", "/v1/profile/goroutine", "debug=2", 1},
		{"GET", "/v1/trace", "duration=1ms", 1},
		{"GET", "/v1/profile/cpu", "seconds=-1", 1},
		{"GET", "/v1/profile/../info", "", 1},
		{"PUT", "/v1/flight", "", 1},
		{"GET", "/v1/pools", "x=%zz", 2},
		{"GET", "/v1/profile/cpu", "duration=1e9h", 1},
		{"GET", "/v1/trace", "seconds=Inf", 1},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.auth)
	}
	const token = "secret"
	api := newAPI(fakeSource(), 5*time.Millisecond, nil, nil, context.Background())
	h := requireToken(token, api)
	f.Fuzz(func(t *testing.T, method, path, query string, auth byte) {
		if method == "" || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") || len(method) > 16 {
			method = http.MethodGet // not a token: net/http would never deliver it
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Method = method
		r.URL = &url.URL{Path: path, RawQuery: query}
		switch auth % 3 {
		case 1:
			r.Header.Set("Authorization", "Bearer "+token)
		case 2:
			r.Header.Set("Authorization", "Bearer "+path)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		switch rec.Code {
		case 200, 400, 401, 404, 405, 409:
		default:
			t.Fatalf("%s %s?%s = %d; want one of 200 400 401 404 405 409 (%s)", method, path, query, rec.Code, rec.Body)
		}
		if auth%3 != 1 && path != token && rec.Code != http.StatusUnauthorized {
			t.Fatalf("%s %s without the token = %d; want 401", method, path, rec.Code)
		}
		if rec.Code >= 400 {
			var e apiv1.Error
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("%s %s?%s = %d with body %q; want a JSON error", method, path, query, rec.Code, rec.Body)
			}
		}
	})
}
