package pyroscope

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	pyro "github.com/grafana/pyroscope-go"
)

// DefaultUploadRate is how often profiles are uploaded when
// Config.UploadRate is zero.
const DefaultUploadRate = 10 * time.Second

// DefaultServerAddress is the server Start pushes to when
// Config.ServerAddress is empty: a Pyroscope on its default port.
const DefaultServerAddress = "http://localhost:4040"

// ErrNoApplicationName is returned by Start when Config.ApplicationName is
// empty: the server files every profile under that name.
var ErrNoApplicationName = errors.New("pyroscope: ApplicationName is required")

// DefaultProfileTypes returns the profile types Start collects when
// Config.ProfileTypes is empty: CPU, allocations (objects and bytes), heap in
// use (objects and bytes), goroutines, mutex and block contention (count and
// duration). It returns a new slice on each call.
func DefaultProfileTypes() []pyro.ProfileType {
	return []pyro.ProfileType{
		pyro.ProfileCPU,
		pyro.ProfileAllocObjects, pyro.ProfileAllocSpace,
		pyro.ProfileInuseObjects, pyro.ProfileInuseSpace,
		pyro.ProfileGoroutines,
		pyro.ProfileMutexCount, pyro.ProfileMutexDuration,
		pyro.ProfileBlockCount, pyro.ProfileBlockDuration,
	}
}

// Config configures Start. Only ApplicationName is required; every other
// zero value selects the default named on its field.
type Config struct {
	// ApplicationName is the service_name the server files profiles under.
	ApplicationName string
	// ServerAddress is the server's base URL, for example
	// http://127.0.0.1:4040; empty means DefaultServerAddress.
	ServerAddress string
	// Tags are static labels added to every profile (for example region).
	Tags map[string]string
	// UploadRate is how often profiles are cut and uploaded; zero means
	// DefaultUploadRate.
	UploadRate time.Duration
	// ProfileTypes selects the profiles; empty means DefaultProfileTypes().
	ProfileTypes []pyro.ProfileType
	// Logger receives the profiler's messages (upload failures as errors);
	// nil means silence.
	Logger *slog.Logger
}

// Start starts continuous profiling with cfg and returns the function that
// stops it. Stop uploads what was collected since the last upload, waits for
// the uploads in flight, closes the HTTP connections and returns the
// profiler's error, if any; it is idempotent. Start fails with
// ErrNoApplicationName, or with the profiler's error (for example an invalid
// tag). A server that cannot be reached does not make Start fail: uploads
// are retried each period and failures go to cfg.Logger.
func Start(cfg Config) (stop func() error, err error) {
	if cfg.ApplicationName == "" {
		return nil, ErrNoApplicationName
	}
	if cfg.ServerAddress == "" {
		cfg.ServerAddress = DefaultServerAddress
	}
	if cfg.UploadRate <= 0 {
		cfg.UploadRate = DefaultUploadRate
	}
	types := cfg.ProfileTypes
	if len(types) == 0 {
		types = DefaultProfileTypes()
	}
	// A transport of our own, so that stop can close its idle connections
	// and leave no goroutine behind.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	pcfg := pyro.Config{
		ApplicationName: cfg.ApplicationName,
		ServerAddress:   cfg.ServerAddress,
		Tags:            cfg.Tags,
		UploadRate:      cfg.UploadRate,
		ProfileTypes:    types,
		HTTPClient:      &http.Client{Transport: tr, Timeout: 10 * time.Second},
	}
	if cfg.Logger != nil {
		pcfg.Logger = slogAdapter{cfg.Logger}
	}
	p, err := pyro.Start(pcfg)
	if err != nil {
		tr.CloseIdleConnections()
		return nil, fmt.Errorf("pyroscope: start: %w", err)
	}
	var (
		once    sync.Once
		stopErr error
	)
	return func() error {
		once.Do(func() {
			stopErr = p.Stop()
			tr.CloseIdleConnections()
		})
		return stopErr
	}, nil
}

// slogAdapter turns pyroscope-go's printf-style logger into slog records.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Infof(format string, args ...any) {
	a.l.Info("pyroscope: " + fmt.Sprintf(format, args...))
}

func (a slogAdapter) Debugf(format string, args ...any) {
	a.l.Debug("pyroscope: " + fmt.Sprintf(format, args...))
}

func (a slogAdapter) Errorf(format string, args ...any) {
	a.l.Error("pyroscope: " + fmt.Sprintf(format, args...))
}
