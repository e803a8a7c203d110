//go:build linux

package procfs

import (
	"os"
	"testing"
)

// BenchmarkRead reads this test process: its threads' run delay, its
// cgroup and the host. The doc comment's cost figure comes from here.
func BenchmarkRead(b *testing.B) {
	for b.Loop() {
		if _, err := Read(os.Getpid()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSockets counts this process's sockets.
func BenchmarkSockets(b *testing.B) {
	for b.Loop() {
		if _, err := Sockets(os.Getpid()); err != nil {
			b.Fatal(err)
		}
	}
}
