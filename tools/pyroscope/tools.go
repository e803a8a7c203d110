//go:build tools

// Package tools pins the Pyroscope server that the end-to-end tests run.
// It is its own module so that the server's large dependency tree never
// enters the gdiag module. scripts/build-pyroscope builds the binary.
package tools

import _ "github.com/grafana/pyroscope/cmd/pyroscope"
