# Sourced by the scripts in this directory: a line per step with the time
# since the first script started, and a heartbeat while a long step runs,
# so that a first run on an empty machine never sits silent.

# GDIAG_T0 is inherited, so that scripts run by other scripts count from
# the same start.
: "${GDIAG_T0:=$(date +%s)}"
export GDIAG_T0

# elapsed prints the time since GDIAG_T0 as m:ss.
elapsed() {
	local s=$(($(date +%s) - GDIAG_T0))
	printf '%d:%02d' $((s / 60)) $((s % 60))
}

# step WHAT prints the heading of a step.
step() { printf '\n== [%s] %s\n' "$(elapsed)" "$*"; }

# note WHAT prints a line within a step.
note() { printf '   [%s] %s\n' "$(elapsed)" "$*"; }

# quietly WHAT CMD... runs CMD, printing "still WHAT" every 30 s while it
# runs; it returns CMD's status.
quietly() {
	local what=$1
	shift
	local beat
	(
		n=0
		while :; do
			sleep 1
			n=$((n + 1))
			if [ $((n % 30)) -eq 0 ]; then note "still $what"; fi
		done
	) &
	beat=$!
	local rc=0
	"$@" || rc=$?
	kill "$beat" 2>/dev/null || true
	wait "$beat" 2>/dev/null || true
	return "$rc"
}

# tool_buildflags are the go build flags of the servers built from tools/:
# no paths of this machine in the binary, no symbol table or DWARF kept,
# and no DWARF generated in the first place: -ldflags=-w would drop it
# anyway, and not making it cut a cold build of the Collector from 355 s
# to 231 s (and 317 s to 194 s in a second pair of runs) on the busy
# 2-core machine, for the same binary.
tool_buildflags=(-trimpath "-ldflags=-s -w" -gcflags=all=-dwarf=false)

# demo_buildflags are those of the programs scripts/demo builds and throws
# away: they keep their symbol table (profiles and dumps need it), not
# their DWARF.
demo_buildflags=(-gcflags=all=-dwarf=false)
