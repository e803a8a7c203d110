package apiv1

import (
	"encoding/json"
	"time"
)

// Duration is a time.Duration that encodes in JSON as its String form
// ("1.5s") so that people can read it, and decodes from that form or from
// a number of nanoseconds.
type Duration time.Duration

// MarshalJSON encodes d as a quoted time.Duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON decodes a quoted duration string or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
