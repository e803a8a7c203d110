package pool

import "sync/atomic"

var dbgBlocks, dbgParks, dbgSpins, dbgKicks, dbgWakeups atomic.Int64
