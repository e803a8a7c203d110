package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/gdiag/gdiag/pool"
)

// tenants are the keys of the http pool's tasks; earlier ones get a higher
// priority, as paying customers would.
var tenants = []string{"t1", "t2", "t3", "t4", "t5"}

func tenantPriority(t string) pool.Priority {
	switch t {
	case "t1":
		return pool.High
	case "t5":
		return pool.Low
	}
	return pool.Normal
}

// Limits of /work: how many tasks one request may ask for, and how long a
// request may wait for them.
const (
	maxTasksPerRequest = 64
	requestTimeout     = 10 * time.Second
	slowTaskTime       = 50 * time.Millisecond
)

// server holds what the HTTP handlers need.
type server struct {
	httpPool  *pool.Pool
	incidents *incidents
	tracer    trace.Tracer
}

func (s *server) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /work", s.work)
	mux.HandleFunc("GET /incident", s.getIncident)
	mux.HandleFunc("POST /incident", s.setIncident)
}

// work runs n small tasks of the tenant on the http pool and waits for them.
// Its span is the parent of the pool's per-task spans.
func (s *server) work(w http.ResponseWriter, r *http.Request) {
	tenant := r.URL.Query().Get("tenant")
	if tenant == "" {
		tenant = "t1"
	}
	n := 4
	if v := r.URL.Query().Get("n"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > maxTasksPerRequest {
			http.Error(w, fmt.Sprintf("n must be an integer in [1, %d]", maxTasksPerRequest), http.StatusBadRequest)
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	ctx, span := s.tracer.Start(ctx, "GET /work", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("tenant", tenant), attribute.Int("tasks", n)))
	defer span.End()

	slow := s.incidents.slowTasks()
	g, _ := s.httpPool.Group(ctx) // the tasks receive the group's context, a child of ctx
	for i := range n {
		g.Go(pool.Task{
			Key:      tenant,
			Priority: tenantPriority(tenant),
			Label:    "work",
			Fn:       func(ctx context.Context) error { return compute(ctx, i, slow) },
		})
	}
	err := g.Wait()
	switch {
	case errors.Is(err, pool.ErrOverloaded):
		span.SetStatus(codes.Error, err.Error())
		http.Error(w, "overloaded, retry later", http.StatusServiceUnavailable)
		return
	case err != nil:
		span.SetStatus(codes.Error, err.Error())
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "ok tenant=%s tasks=%d\n", tenant, n)
}

// compute is one unit of request work: some hashing, and during the
// overload incident a slow call to an imaginary downstream.
func compute(ctx context.Context, seed int, slow bool) error {
	h := [32]byte{byte(seed)}
	for range 100 {
		h = sha256.Sum256(h[:])
	}
	if slow {
		select {
		case <-time.After(slowTaskTime):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

type incidentJSON struct {
	Incident string    `json:"incident"`
	Since    time.Time `json:"since"`
}

func (s *server) getIncident(w http.ResponseWriter, _ *http.Request) {
	name, since := s.incidents.Current()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(incidentJSON{Incident: name, Since: since})
}

func (s *server) setIncident(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if err := s.incidents.Set(name); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.getIncident(w, r)
}
