package schedstats

// The parser's limits and errors, for the external tests.
const (
	MaxTraceLine    = maxTraceLine
	MaxTraceRecords = maxTraceRecords
	MaxTraceDetail  = maxTraceDetail
)

var (
	ErrMalformed      = errMalformed
	ErrLineTooLong    = errLineTooLong
	ErrTooManyRecords = errTooManyRecords
)
