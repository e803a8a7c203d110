// Command testsummary reads the JSON stream of go test -json. scripts/test
// runs it twice:
//
//	go test -json ... | tee -a run.json | testsummary stream
//	testsummary report -allow .ci/allowed-skips run.json
//
// stream prints what plain go test prints (the output of failed tests,
// package results, build errors) plus every skipped test with its reason,
// and exits 1 when a test or build failed. report prints the skipped tests
// of all runs, the slowest tests and a closing count line, and exits 1 when
// a test failed, no test ran, or a test was skipped that the allow-list
// does not name: in CI a skip is a test that did not run, so it must be
// argued for in the list or made to run.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "stream":
		ok, err := stream(os.Stdin, os.Stdout)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testsummary:", err)
			os.Exit(2)
		}
		if !ok {
			os.Exit(1)
		}
	case "report":
		fs := flag.NewFlagSet("report", flag.ExitOnError)
		allowPath := fs.String("allow", "", "`file` of allowed skips: lines of PACKAGE TEST REASON; # starts a comment")
		slowest := fs.Int("slowest", 10, "list the `n` slowest tests")
		fs.Parse(os.Args[2:])
		var allow allowList
		if *allowPath != "" {
			b, err := os.ReadFile(*allowPath)
			if err == nil {
				allow, err = parseAllowList(string(b))
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "testsummary:", err)
				os.Exit(2)
			}
		}
		var runs []io.Reader
		for _, name := range fs.Args() {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintln(os.Stderr, "testsummary:", err)
				os.Exit(2)
			}
			defer f.Close()
			runs = append(runs, f)
		}
		ok, err := report(io.MultiReader(runs...), os.Stdout, allow, *slowest)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testsummary:", err)
			os.Exit(2)
		}
		if !ok {
			os.Exit(1)
		}
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: go test -json ... | testsummary stream\n       testsummary report [-allow FILE] [-slowest N] RUN.json...")
	os.Exit(2)
}
