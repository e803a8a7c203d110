//go:build unix

package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// reexec executes the program again, in place (same PID), with setting
// added to GODEBUG. It returns only when that fails, after saying so.
func reexec(setting string) {
	exe, err := os.Executable()
	if err == nil {
		godebug := setting
		if old := os.Getenv("GODEBUG"); old != "" {
			godebug = old + "," + setting
		}
		env := []string{"GODEBUG=" + godebug}
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "GODEBUG=") {
				env = append(env, kv)
			}
		}
		err = syscall.Exec(exe, os.Args, env)
	}
	fmt.Fprintf(os.Stderr, "incident preempt: could not run again with GODEBUG=%s (%v); set it yourself\n", setting, err)
}
