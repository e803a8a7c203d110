package profile

import (
	"errors"
	"fmt"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
)

// AnalyzeTop is how many functions Analyze prints.
const AnalyzeTop = 15

// Analyze prints the top table of a saved profile file (data, read from the
// file name) for gdiag analyze, or its Result with --json. A file that is
// not a profile pprof can read is a cli.Input error (exit code 5).
func Analyze(env *cli.Env, name string, data []byte) error {
	if len(data) == 0 {
		return cli.Input(name, errors.New("empty file"))
	}
	p, err := parse(data)
	if err != nil {
		return cli.Input(name, fmt.Errorf("not a pprof profile: %w", err))
	}
	if len(p.SampleType) == 0 {
		return cli.Input(name, errors.New("a profile with no sample types"))
	}
	res := Result{File: name, Top: MakeTop(p, "", AnalyzeTop)}
	if env.JSON {
		return env.PrintJSON(res)
	}
	res.Top.Print(env.Stdout, name)
	return nil
}
