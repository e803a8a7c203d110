package cli

import (
	"encoding/json"
	"text/tabwriter"
)

// PrintJSON writes v to stdout as indented JSON.
func (e *Env) PrintJSON(v any) error {
	enc := json.NewEncoder(e.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Table returns a tabwriter on stdout for aligned columns; call Flush.
func (e *Env) Table() *tabwriter.Writer {
	return tabwriter.NewWriter(e.Stdout, 0, 0, 2, ' ', 0)
}
