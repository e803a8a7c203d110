package profile

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/google/pprof/driver"
	"github.com/google/pprof/profile"
)

// Serve runs pprof's web UI for p (saved at path) on ln, showing
// sampleType first, until ctx ends; then it shuts the server down and
// returns nil. pprof's messages go to msgs. It never opens a browser and
// never fetches or symbolizes anything: the profile is handed to pprof as
// it is. pprof keeps its settings in process-wide state, so Serve passes
// every one it relies on rather than trust their defaults.
func Serve(ctx context.Context, ln net.Listener, p *profile.Profile, path, sampleType string, msgs io.Writer) error {
	served := false
	args := []string{"-http=" + ln.Addr().String(), "-no_browser", "-symbolize=none", "-sample_index=" + sampleType, path}
	err := driver.PProf(&driver.Options{
		Flagset: &flags{args: args},
		Fetch:   fetcher{p},
		Sym:     noSymbols{},
		UI:      &quietUI{w: msgs},
		HTTPServer: func(args *driver.HTTPServerArgs) error {
			served = true
			return serveUI(ctx, ln, args.Handlers)
		},
	})
	if !served {
		ln.Close()
	}
	if err != nil {
		return cli.Errorf(cli.ExitInput, "open the saved file with go tool pprof -http=: "+path, "pprof's web UI failed: %v", err)
	}
	return nil
}

// serveUI serves pprof's handlers below /ui/, as pprof's own server does,
// until ctx ends.
func serveUI(ctx context.Context, ln net.Listener, handlers map[string]http.Handler) error {
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, ok := handlers[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
	mux := http.NewServeMux()
	mux.Handle("/ui/", http.StripPrefix("/ui", ui))
	mux.Handle("/", http.RedirectHandler("/ui/", http.StatusTemporaryRedirect))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// fetcher hands pprof the profile gdiag already has.
type fetcher struct{ p *profile.Profile }

func (f fetcher) Fetch(string, time.Duration, time.Duration) (*profile.Profile, string, error) {
	// No source URL: pprof would take the profile for a remote one and
	// save a copy under $HOME/pprof.
	return f.p.Copy(), "", nil
}

// noSymbols keeps pprof from running binutils: Go profiles carry their
// function names already.
type noSymbols struct{}

func (noSymbols) Symbolize(string, driver.MappingSources, *profile.Profile) error { return nil }

// quietUI passes pprof's messages on, except its "Serving web UI on"
// line: gdiag prints the URL itself, on stdout. It wants no browser and
// reads no commands.
type quietUI struct{ w io.Writer }

func (u *quietUI) ReadLine(string) (string, error) { return "", io.EOF }
func (u *quietUI) Print(args ...any) {
	if s := fmt.Sprint(args...); !strings.HasPrefix(s, "Serving web UI") {
		fmt.Fprintln(u.w, strings.TrimSuffix(s, "\n"))
	}
}
func (u *quietUI) PrintErr(args ...any) {
	fmt.Fprintln(u.w, strings.TrimSuffix(fmt.Sprint(args...), "\n"))
}
func (u *quietUI) IsTerminal() bool                    { return false }
func (u *quietUI) WantBrowser() bool                   { return false }
func (u *quietUI) SetAutoComplete(func(string) string) {}

// flags gives pprof its command line from args instead of os.Args, on a
// private FlagSet rather than the process-wide one.
type flags struct {
	fs    *flag.FlagSet
	args  []string
	extra []string
}

func (f *flags) set() *flag.FlagSet {
	if f.fs == nil {
		f.fs = flag.NewFlagSet("pprof", flag.ContinueOnError)
		f.fs.SetOutput(io.Discard)
	}
	return f.fs
}

func (f *flags) Bool(n string, d bool, u string) *bool          { return f.set().Bool(n, d, u) }
func (f *flags) Int(n string, d int, u string) *int             { return f.set().Int(n, d, u) }
func (f *flags) Float64(n string, d float64, u string) *float64 { return f.set().Float64(n, d, u) }
func (f *flags) String(n, d, u string) *string                  { return f.set().String(n, d, u) }
func (f *flags) StringList(n, d, u string) *[]*string           { return &[]*string{f.set().String(n, d, u)} }
func (f *flags) ExtraUsage() string                             { return strings.Join(f.extra, "\n") }
func (f *flags) AddExtraUsage(eu string)                        { f.extra = append(f.extra, eu) }

func (f *flags) Parse(usage func()) []string {
	if err := f.set().Parse(f.args); err != nil || f.fs.NArg() == 0 {
		usage()
		return nil
	}
	return f.fs.Args()
}
