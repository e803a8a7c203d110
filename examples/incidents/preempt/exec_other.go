//go:build !unix

package main

import (
	"fmt"
	"os"
)

// reexec says that GODEBUG must be set by hand on this system.
func reexec(setting string) {
	fmt.Fprintf(os.Stderr, "incident preempt: set GODEBUG=%s yourself on this system\n", setting)
}
