package alerts_test

import (
	"fmt"
	"strings"

	"github.com/gdiag/gdiag/alerts"
)

// Scale turns the rules' minutes into seconds, for a test or a demo that
// cannot wait for production durations.
func ExampleScale() {
	rules := []byte(`- alert: Slow
  expr: rate(x_total[5m]) > 1 and delta(y[30m]) > 0
  for: 10m
`)
	fast, err := alerts.Scale(rules, 60)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(fast))
	// Output:
	// - alert: Slow
	//   expr: rate(x_total[5s]) > 1 and delta(y[30s]) > 0
	//   for: 10s
}

// Rules returns the rules file to write next to prometheus.yml.
func ExampleRules() {
	n := strings.Count(string(alerts.Rules()), "- alert: ")
	fmt.Println(n, "alerts")
	// Output: 12 alerts
}
