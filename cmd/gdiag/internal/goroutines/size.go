package goroutines

import (
	"fmt"
	"strconv"
	"strings"
)

// size is a byte count flag: a number with an optional K, M or G suffix
// (powers of 1024), such as 512M.
type size int64

func (s *size) String() string {
	for _, u := range []struct {
		suffix string
		n      int64
	}{{"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if int64(*s) >= u.n && int64(*s)%u.n == 0 {
			return strconv.FormatInt(int64(*s)/u.n, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(*s), 10)
}

func (s *size) Set(v string) error {
	mult := int64(1)
	t := strings.TrimSuffix(strings.ToUpper(v), "B")
	switch {
	case strings.HasSuffix(t, "K"):
		mult, t = 1<<10, strings.TrimSuffix(t, "K")
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, strings.TrimSuffix(t, "M")
	case strings.HasSuffix(t, "G"):
		mult, t = 1<<30, strings.TrimSuffix(t, "G")
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 1 || n > (1<<62)/mult {
		return fmt.Errorf("want a size such as 512M or 8G, got %q", v)
	}
	*s = size(n * mult)
	return nil
}
