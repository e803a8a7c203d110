package main_test

import (
	"os"
	"strings"
	"testing"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
)

// TestExitCodesDocumented checks that the package documentation and the
// README list the exit codes as gdiag help does (cli.ExitSummary).
func TestExitCodesDocumented(t *testing.T) {
	for _, name := range []string{"doc.go", "../../README.md"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		// Join the lines, dropping Go comment markers, so that wrapping does not matter.
		text := strings.Join(strings.Fields(strings.ReplaceAll(string(b), "\n//", "\n")), " ")
		if !strings.Contains(text, cli.ExitSummary) {
			t.Errorf("%s does not list the exit codes as gdiag help does: %q", name, cli.ExitSummary)
		}
	}
}
