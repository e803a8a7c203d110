package main_test

// The README's snippets as tests: the exporter snippet compiles with its
// imports, the worked session is what scripts/demo runs, and every shell
// command the README shows runs, against the demo, Debian's servers and
// the repository's files, and begins its output as the README does.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// block is a fenced code block of the README.
type block struct {
	lang  string // after the opening fence: "go", "sh", or ""
	lines []string
}

func readmeBlocks(t *testing.T) []block {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []block
	var cur *block
	for _, l := range strings.Split(string(b), "\n") {
		switch {
		case cur == nil && strings.HasPrefix(l, "```"):
			cur = &block{lang: strings.TrimPrefix(l, "```")}
		case cur != nil && l == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, l)
		}
	}
	return out
}

// TestReadmeGoSnippet compiles the README's exporter snippet: its import
// aliases must name the packages its calls use.
func TestReadmeGoSnippet(t *testing.T) {
	var snippet []string
	for _, b := range readmeBlocks(t) {
		if b.lang == "go" && len(b.lines) > 0 && b.lines[0] == "import (" {
			snippet = b.lines
		}
	}
	if snippet == nil {
		t.Fatal("the README has no Go snippet that starts with its imports")
	}
	end := 0
	for i, l := range snippet {
		if l == ")" {
			end = i
			break
		}
	}
	body := strings.Join(snippet[end+1:], "\n")
	// Every variable the snippet declares is used, so that it compiles as
	// a function body; the two it takes from the reader's program are
	// declared here.
	var uses []string
	for _, m := range regexp.MustCompile(`(?m)^(\w+)(?:, (\w+))? :=`).FindAllStringSubmatch(body, -1) {
		for _, v := range m[1:] {
			if v != "" {
				uses = append(uses, "_ = "+v)
			}
		}
	}
	src := fmt.Sprintf("package main\n\n%s\n\ttrace \"go.opentelemetry.io/otel/trace\"\n)\n\nvar (\n\ttracerProvider trace.TracerProvider\n\totlpExporter   sdkmetric.Exporter\n)\n\nfunc main() {\n%s\n%s\n}\n",
		strings.Join(snippet[:end], "\n"), body, strings.Join(uses, "\n"))
	file := filepath.Join(t.TempDir(), "snippet.go")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "vet", file)
	cmd.Dir = "../.." // the main module resolves the imports
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("the README's exporter snippet does not compile: %v\n%s\n%s", err, out, src)
	}
}

// TestReadmeSessionIsDemo checks that the commands of the README's worked
// session are commands scripts/demo runs.
func TestReadmeSessionIsDemo(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	demo, err := os.ReadFile("../../scripts/demo")
	if err != nil {
		t.Fatal(err)
	}
	_, session, ok := bytes.Cut(readme, []byte("commands `scripts/demo` runs"))
	session, _, ok2 := bytes.Cut(session, []byte("Grouping is fast"))
	if !ok || !ok2 {
		t.Fatal("the README has no worked session from scripts/demo")
	}
	pid := regexp.MustCompile(`^\d+$`)
	n := 0
	for _, l := range strings.Split(string(session), "\n") {
		args, ok := strings.CutPrefix(l, "$ gdiag ")
		if !ok || strings.Contains(args, "testdata/") {
			continue
		}
		f := strings.Fields(args)
		for i := range f {
			if pid.MatchString(f[i]) && len(f[i]) > 2 {
				f[i] = `"$pid"`
			}
		}
		n++
		if want := "gdiag " + strings.Join(f, " "); !strings.Contains(string(demo), "\n"+want+"\n") {
			t.Errorf("the README's session runs %q; scripts/demo does not", want)
		}
	}
	if n < 3 {
		t.Errorf("found %d gdiag commands in the README's worked session; want the session", n)
	}
}

// TestReadmeCommands runs every "$ gdiag" command the README shows, and
// its curl snippet: PIDs become the shared demo's, the ports of
// Prometheus (9090), the node exporter (9100) and etcd (2379) those of
// Debian's servers started here, files are the repository's. Each must
// exit as its output says (an error line, or not) and begin its output as
// the README does where that does not vary (table headers, file reads).
// Commands that never end on their own (--web) are not run.
func TestReadmeCommands(t *testing.T) {
	d := sharedDemo(t)
	dir := t.TempDir()
	prom := startPrometheusServer(t, dir)
	node := startNodeExporterServer(t)
	etcd := startEtcdServer(t, dir)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	subst := strings.NewReplacer("127.0.0.1:9090", prom.Addr, "127.0.0.1:9100", node.Addr, "127.0.0.1:2379", etcd.Addr)
	pid := regexp.MustCompile(`^\d{3,}$`)
	ran := 0
	for _, b := range readmeBlocks(t) {
		for i, l := range b.lines {
			if b.lang == "sh" && strings.HasPrefix(l, "curl ") {
				ran++
				checkCurlSnippet(t, l, d)
				continue
			}
			line, ok := strings.CutPrefix(l, "$ gdiag ")
			if b.lang != "" || !ok || strings.Contains(line, "--web") {
				continue
			}
			args := strings.Fields(subst.Replace(line))
			for k, a := range args {
				switch {
				case pid.MatchString(a):
					args[k] = strconv.Itoa(d.PID)
				case strings.Contains(a, "/") && fileExists(filepath.Join(root, a)):
					args[k] = filepath.Join(root, a)
				}
			}
			var want []string // the README's output, up to the next command
			for _, o := range b.lines[i+1:] {
				if strings.HasPrefix(o, "$ ") {
					break
				}
				want = append(want, subst.Replace(o))
			}
			ran++
			t.Run(line, func(t *testing.T) { checkReadmeCommand(t, d, root, args, want) })
		}
	}
	if ran < 10 {
		t.Errorf("ran %d README commands; want every one (at least 10)", ran)
	}
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// checkReadmeCommand runs gdiag with args in a scratch directory (profiles
// and traces are saved there) and compares it with want, the README's
// output.
func checkReadmeCommand(t *testing.T, d *demo, root string, args, want []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gdiagBin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GDIAG_DIR="+d.Dir, "GDIAG_TOKEN=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	code := 0
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	r := result{Stdout: strings.ReplaceAll(stdout.String(), root+"/", ""), Stderr: stderr.String(), Code: code}
	var errLine string
	for _, w := range want {
		if regexp.MustCompile(`^gdiag \w+: `).MatchString(w) {
			errLine = w
			break
		}
	}
	switch {
	case errLine != "":
		// The README shows a refusal: the same first message, and an
		// exit code that is not success.
		got, _, _ := strings.Cut(strings.TrimPrefix(r.Stderr, "tracing for 2s…\n"), "\n")
		if r.Code < 2 || got != errLine {
			t.Errorf("gdiag %s: want a failure saying %q\n%s", strings.Join(args, " "), errLine, r)
		}
	case r.Code > 1 || r.Stdout == "":
		t.Errorf("gdiag %s: want output and exit 0 (1 for findings)\n%s", strings.Join(args, " "), r)
	case len(want) > 0 && want[0] != "...":
		first, _, _ := strings.Cut(r.Stdout, "\n")
		fixed := !regexp.MustCompile(`\d`).MatchString(want[0]) || strings.Contains(strings.Join(args, " "), root)
		if fixed && strings.Join(strings.Fields(first), " ") != strings.Join(strings.Fields(want[0]), " ") {
			t.Errorf("gdiag %s begins %q; the README shows %q", strings.Join(args, " "), first, want[0])
		}
	}
}

// checkCurlSnippet runs the README's curl command against the demo's
// socket: it must print the goroutines (their total, or the object with
// it), not null.
func checkCurlSnippet(t *testing.T, line string, d *demo) {
	for _, tool := range []string{"curl", "jq"} {
		_, err := exec.LookPath(tool)
		needTool(t, err == nil, "%s is not installed (scripts/setup installs it)", tool)
	}
	line = strings.ReplaceAll(line, "/tmp/gdiag-$(id -u)/<pid>.sock", d.Socket)
	out, err := exec.Command("sh", "-c", line).CombinedOutput()
	var v struct{ Total int }
	if n, perr := strconv.Atoi(strings.TrimSpace(string(out))); perr == nil {
		v.Total = n
	} else if jerr := json.Unmarshal(out, &v); jerr != nil {
		v.Total = 0
	}
	if err != nil || v.Total <= 0 {
		t.Errorf("the README's %q printed %q (%v); want the goroutines", line, out, err)
	}
}
