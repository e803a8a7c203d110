//go:build !unix

package sched

import (
	"errors"
	"os"
)

// readKeys is not available here: the view stops on Ctrl-C (a signal)
// or at the end of --count.
func readKeys(*os.File) (<-chan byte, func(), error) {
	return nil, nil, errors.New("keys are not supported on this system")
}
