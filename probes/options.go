package probes

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/gdiag/gdiag/schedstats"
)

// Defaults for the endpoint and its captures.
const (
	// defaultMaxDuration caps the duration of a profile or trace capture
	// when Options.MaxDuration and HandlerOptions.MaxDuration are zero.
	defaultMaxDuration = 5 * time.Minute
	// defaultCPUProfileDuration is the length of a CPU profile when the
	// request names none (capped by the maximum duration).
	defaultCPUProfileDuration = 30 * time.Second
	// defaultTraceDuration is the length of an execution trace when the
	// request names none (capped by the maximum duration).
	defaultTraceDuration = 5 * time.Second
	// defaultShutdownTimeout bounds how long Close waits for requests in
	// flight.
	defaultShutdownTimeout = 5 * time.Second
)

// ProfileFunc writes a profile of duration d to w. It must return early,
// with ctx.Err(), when ctx is done. Functions registered through
// Options.Profiles or HandlerOptions.Profiles are served at
// /v1/profile/{name}; they let exporters add profiles (for example a
// wall-clock profile) without the probes package importing them.
type ProfileFunc func(ctx context.Context, w io.Writer, d time.Duration) error

// Options configures Start. The zero value is the default:
// an owner-only unix socket in the user's runtime directory, a discovery
// file next to it, no TCP listener, a sampler taking one snapshot a second
// and keeping 300, and no flight recorder.
type Options struct {
	// Dir is the directory for the socket and the discovery file. When
	// empty, the endpoint uses $XDG_RUNTIME_DIR/gdiag if usable, else
	// os.TempDir()/gdiag-<uid>. An existing directory must belong to the
	// current user and be closed to others (mode 0700), or it is refused.
	Dir string

	// NoSocket disables the unix socket (and the discovery file with it);
	// Start then needs TCPAddr.
	NoSocket bool

	// TCPAddr, when set, adds a TCP listener that requires a bearer token.
	// Use "127.0.0.1:0" for any free loopback port.
	TCPAddr string
	// AllowNonLoopback permits a TCPAddr that is not a loopback address.
	// Without it, Start refuses such an address with ErrNonLoopback.
	AllowNonLoopback bool
	// Token is the bearer token the TCP listener requires
	// ("Authorization: Bearer <token>"). When empty and TCPAddr is set, a
	// random 32-byte hex token is generated: Agent.Token returns it and the
	// discovery file (mode 0600) records it.
	Token string

	// Interval is the sampler's period; zero means one second.
	Interval time.Duration
	// HistorySize is how many snapshots the sampler keeps; zero means 300.
	HistorySize int
	// Thresholds tune the detectors behind /v1/findings and the flight
	// recorder's automatic snapshots; the zero value is the documented
	// defaults of schedstats.Thresholds.
	Thresholds schedstats.Thresholds

	// Flight, when set, starts a flight recorder with these options for
	// the agent's life, served at /v1/flight. When Flight.Dir is set, a
	// detector finding also writes a snapshot there, at most one per kind
	// of finding per minute. Start fails if another
	// flight recorder is active in the process.
	Flight *FlightOptions

	// MaxDuration caps profile and trace captures; zero means five
	// minutes. A request that names no duration gets 30 seconds of CPU
	// profile or 5 seconds of trace, capped by MaxDuration.
	MaxDuration time.Duration
	// Profiles adds named profiles to /v1/profile/{name}. A name equal to a
	// standard profile's replaces it.
	Profiles map[string]ProfileFunc
	// ShutdownTimeout bounds the wait for requests in flight when the
	// agent stops; zero means five seconds.
	ShutdownTimeout time.Duration

	// Logger receives the endpoint's events (refused peers, fallbacks);
	// nil means silence.
	Logger *slog.Logger

	// openPerms opens the directory and socket to every user, so that
	// tests can show the peer-credential check refusing on its own.
	openPerms bool
}

// HandlerOptions configures Handler. The zero value serves the API with a
// fresh snapshot per request, no history, no findings and no flight
// recorder, and caps captures at five minutes.
type HandlerOptions struct {
	// Sampler, when set, serves /v1/snapshot, /v1/history and
	// /v1/findings from its ring. The caller starts and stops it.
	Sampler *schedstats.Sampler
	// Flight, when set, serves /v1/flight from this recorder, which the
	// caller starts and stops; without it /v1/flight answers 404.
	Flight *FlightRecorder

	// MaxDuration caps captures; zero means five minutes.
	MaxDuration time.Duration
	// Profiles adds named profiles to /v1/profile/{name}.
	Profiles map[string]ProfileFunc
	// Logger receives the handler's events; nil means silence.
	Logger *slog.Logger
}

func (o *Options) maxDuration() time.Duration {
	if o.MaxDuration > 0 {
		return o.MaxDuration
	}
	return defaultMaxDuration
}

func discardLogger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}
