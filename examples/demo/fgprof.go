package main

import (
	"github.com/gdiag/gdiag/exporters/fgprof"
	"github.com/gdiag/gdiag/probes"
)

// wallProfile returns the wall-clock profile served at /v1/profile/wall.
func wallProfile() probes.ProfileFunc { return fgprof.Profile() }
