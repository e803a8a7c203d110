package main

import (
	"os"
	"strings"
	"testing"
)

// testdata/sample.json is real go test -json output of three packages:
// a passes with a skipped test and a skipped subtest, b has a failing
// subtest, c does not compile.
func sample(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/sample.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStream(t *testing.T) {
	var out strings.Builder
	ok, err := stream(strings.NewReader(sample(t)), &out)
	if err != nil || ok {
		t.Fatalf("stream(sample) = %v, %v; want false (a failure), nil", ok, err)
	}
	for _, want := range []string{
		"--- SKIP: TestSkip in example.com/tsample/a: a_test.go:6: needs a thing that is not here\n",
		"--- SKIP: TestSub/skipped in example.com/tsample/a: a_test.go:9: no samples\n",
		"ok  \texample.com/tsample/a\t",
		"c/c_test.go:5:45: cannot use \"s\"",
		"FAIL\texample.com/tsample/c [build failed]\n",
		"--- FAIL: TestFail/inner (0s) in example.com/tsample/b\n    b_test.go:6: got 1; want 2\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stream(sample) lacks %q:\n%s", want, out.String())
		}
	}
	for _, quiet := range []string{"quiet unless it fails", "=== RUN", "PASS\n"} {
		if strings.Contains(out.String(), quiet) {
			t.Errorf("stream(sample) prints %q, which plain go test leaves out:\n%s", quiet, out.String())
		}
	}
}

func TestReport(t *testing.T) {
	pass := `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"pass","Package":"p","Test":"TestA","Elapsed":1.5}
{"Action":"run","Package":"p","Test":"TestB"}
{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:3: no tmux\n"}
{"Action":"skip","Package":"p","Test":"TestB","Elapsed":0}
{"Action":"pass","Package":"p","Elapsed":1.6}
`
	cases := []struct {
		name, in, allow string
		ok              bool
		want            []string
	}{
		{"sample", sample(t), "example.com/tsample/a TestSkip needs a thing\n", false, []string{
			"skipped tests (2, 1 unexpected)", "allowed: needs a thing", "TestSub/skipped: a_test.go:9: no samples\n      UNEXPECTED",
			"tests: 4 passed, 2 failed, 2 skipped\n"}},
		{"unexpected skip", pass, "", false, []string{"p TestB: b_test.go:3: no tmux", "1 unexpected skipped tests", "tests: 1 passed, 0 failed, 1 skipped\n"}},
		{"allowed skip", pass, "# comment\n\np TestB tmux is not needed here\n", true, []string{"allowed: tmux is not needed here", "1.5s  p TestA", "tests: 1 passed, 0 failed, 1 skipped\n"}},
		{"nothing ran", `{"Action":"output","Package":"p","Output":"?   \tp\t[no test files]\n"}` + "\n", "", false, []string{"no test passed", "tests: 0 passed, 0 failed, 0 skipped\n"}},
		{"panic mid-test", `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"panic: boom\n"}
{"Action":"fail","Package":"p","Elapsed":0.1}
`, "", false, []string{"tests: 0 passed, 1 failed, 0 skipped\n"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			allow, err := parseAllowList(c.allow)
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			ok, err := report(strings.NewReader(c.in), &out, allow, 3)
			if err != nil || ok != c.ok {
				t.Errorf("report(%s) = %v, %v; want %v, nil\n%s", c.name, ok, err, c.ok, out.String())
			}
			for _, w := range c.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("report(%s) lacks %q:\n%s", c.name, w, out.String())
				}
			}
			if !strings.HasSuffix(out.String(), "\n") || !strings.HasPrefix(lastLine(out.String()), "tests: ") {
				t.Errorf("report(%s) does not end with the count line:\n%s", c.name, out.String())
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestParseAllowListErrors(t *testing.T) {
	for _, in := range []string{"pkg TestX\n", "onlyone\n"} {
		if _, err := parseAllowList(in); err == nil {
			t.Errorf("parseAllowList(%q) = nil error; want one (an entry needs a reason)", in)
		}
	}
}

func TestReadBadJSON(t *testing.T) {
	if _, err := stream(strings.NewReader("{not json\n"), &strings.Builder{}); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("stream(bad JSON) error = %v; want one naming line 1", err)
	}
}
