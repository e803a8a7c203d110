package profile

import (
	"errors"
	"fmt"
	"io"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/pprofdata"
)

// AnalyzeTop is how many functions Analyze prints.
const AnalyzeTop = 15

// Analyze prints the top table of a saved profile file (read from r, named
// name) for gdiag analyze, or its Result with --json. A file that is not a
// profile pprof can read, or one beyond pprofdata.MaxBytes as read or
// inflated, is a cli.Input error (exit code 5).
func Analyze(env *cli.Env, name string, r io.Reader) error {
	_, p, err := pprofdata.Read(r)
	switch {
	case errors.Is(err, pprofdata.ErrTooLarge):
		return &cli.Error{Code: cli.ExitInput, Err: fmt.Errorf("%s: %w", name, err),
			Hint: fmt.Sprintf("gdiag reads profiles of up to %d MB, as stored and once inflated; real ones are far smaller", pprofdata.MaxBytes>>20)}
	case err != nil:
		return cli.Input(name, fmt.Errorf("not a pprof profile gdiag reads: %w", err))
	case len(p.SampleType) == 0:
		return cli.Input(name, errors.New("a profile with no sample types"))
	}
	res := Result{File: name, Top: MakeTop(p, "", AnalyzeTop)}
	if env.JSON {
		return env.PrintJSON(res)
	}
	res.Top.Print(env.Stdout, name)
	if len(res.Top.Functions) == 0 {
		fmt.Fprintln(env.Stdout, "nothing ran, allocated or waited in this profile; for mutex and block profiles, the program may not have set their rate")
	}
	return nil
}
