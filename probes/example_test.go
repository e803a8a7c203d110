package probes_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/probes"
)

// Start the agent with its defaults, except for the directory, and ask it
// for its info over the owner-only socket, as gdiag does.
func ExampleStart() {
	dir, _ := os.MkdirTemp("", "gdiag-example")
	defer os.RemoveAll(dir)

	agent, err := probes.Start(probes.Options{Dir: filepath.Join(dir, "run")})
	if err != nil {
		fmt.Println(err) // a service logs this and carries on
	}
	defer agent.Close() // nil-safe: a failed Start returns a nil Agent
	if agent == nil {
		return
	}

	c, err := apiv1.NewClient(agent.SocketPath(), apiv1.ClientOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	info, err := c.Info(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(info.APIVersion, info.PID == os.Getpid())
	fmt.Println(filepath.Base(agent.DiscoveryPath()) == fmt.Sprint(os.Getpid(), ".json"))
	// Output:
	// v1 true
	// true
}

// Mount the API on a service's own mux, under a prefix. Handler performs
// no authentication: wrap it in the service's own.
func ExampleHandler() {
	mux := http.NewServeMux()
	api := probes.Handler(probes.HandlerOptions{})
	mux.Handle("/debug/gdiag/", http.StripPrefix("/debug/gdiag", requireAdmin(api)))

	for _, path := range []string{"/debug/gdiag/v1/snapshot", "/debug/gdiag/v1/nope"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("X-Admin", "yes")
		mux.ServeHTTP(rec, req)
		fmt.Println(path, rec.Code, rec.Header().Get("Content-Type"))
	}
	// Output:
	// /debug/gdiag/v1/snapshot 200 application/json
	// /debug/gdiag/v1/nope 404 application/json
}

// requireAdmin stands for the service's own authentication.
func requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Admin") != "yes" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}
