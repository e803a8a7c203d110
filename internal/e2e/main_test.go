package e2e_test

import (
	"os"
	"testing"

	"github.com/gdiag/gdiag/internal/e2etest"
)

// TestMain removes the programs the tests built (with -race, once each).
func TestMain(m *testing.M) { os.Exit(e2etest.Main(m)) }
