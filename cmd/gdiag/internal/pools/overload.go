package pools

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	gpool "github.com/gdiag/gdiag/pool"
)

// Overload is a pool's overload controls in a Report: present only for a
// pool that uses at least one (an adaptive limit, a rate limit, shedding,
// a breaker). Rates are null without a token bucket; ShedTargetSeconds is
// 0 without shedding; Breakers is empty without a breaker.
type Overload struct {
	Limit             int                  `json:"limit"` // workers allowed to run tasks now
	Adaptive          bool                 `json:"adaptive"`
	Rate              *gpool.Rate          `json:"rate"`    // the pool's token bucket
	KeyRate           *gpool.Rate          `json:"keyRate"` // each key's
	Shedding          bool                 `json:"shedding"`
	ShedTargetSeconds float64              `json:"shedTargetSeconds"`
	Refused           map[string]uint64    `json:"refused"`      // refusals since start by reason, the reasons that occurred
	ShedPerSec        *float64             `json:"shedPerSec"`   // shed_wait and shed_key between the readings; null without rates
	BreakerOpens      uint64               `json:"breakerOpens"` // times any breaker opened
	Breakers          []gpool.BreakerStats `json:"breakers"`     // the pool's (key ""), then keyed ones, open first
}

// controlled reports whether p uses an overload control.
func controlled(p *apiv1.Pool) bool {
	return p.Adaptive || p.Rate.PerSecond > 0 || p.KeyRate.PerSecond > 0 || p.ShedTarget > 0 || p.Breakers != nil
}

// newOverload returns cur's overload controls, or nil for a pool without
// any; prev and secs are the first reading and the time between them, for
// the shed rate (prev nil or secs 0: no rate).
func newOverload(cur apiv1.Pool, prev *apiv1.Pool, secs float64) *Overload {
	if !controlled(&cur) {
		return nil
	}
	o := &Overload{
		Limit: cur.Limit, Adaptive: cur.Adaptive, Shedding: cur.Shedding,
		ShedTargetSeconds: cur.ShedTarget.Seconds(), BreakerOpens: cur.BreakerOpens,
		Refused: map[string]uint64{}, Breakers: cur.Breakers,
	}
	if o.Breakers == nil {
		o.Breakers = []gpool.BreakerStats{}
	}
	if cur.Rate.PerSecond > 0 {
		o.Rate = &cur.Rate
	}
	if cur.KeyRate.PerSecond > 0 {
		o.KeyRate = &cur.KeyRate
	}
	for _, r := range cur.Refused.ByReason() {
		if r.Count > 0 {
			o.Refused[r.Reason] = r.Count
		}
	}
	if prev != nil && secs > 0 {
		shed := sub(cur.Refused.ShedWait+cur.Refused.ShedKey, prev.Refused.ShedWait+prev.Refused.ShedKey)
		v := float64(shed) / secs
		o.ShedPerSec = &v
	}
	return o
}

// printOverload prints the overload controls of the pools that use them,
// as a second table after the main one; nothing when no pool does.
func printOverload(env *cli.Env, rep Report) error {
	var rows []Row
	for _, r := range rep.Pools {
		if r.Overload != nil {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintln(env.Stdout)
	tw := env.Table()
	fmt.Fprintln(tw, "POOL\tLIMIT/MAX\tRATE\tKEY RATE\tSHEDDING\tSHED/S\tREFUSED BY REASON\tBREAKERS")
	for _, r := range rows {
		o := r.Overload
		limit := strconv.Itoa(o.Limit) + "/" + strconv.Itoa(r.MaxWorkers)
		if o.Adaptive {
			limit += " adaptive"
		}
		shedding := "-"
		if o.ShedTargetSeconds > 0 {
			shedding = "no"
			if o.Shedding {
				shedding = "YES"
			}
			shedding += " (target " + time.Duration(o.ShedTargetSeconds*1e9).String() + ")"
		}
		shedRate := "-"
		if o.ShedPerSec != nil {
			shedRate = rate(*o.ShedPerSec)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, limit, rateText(o.Rate), rateText(o.KeyRate),
			shedding, shedRate, refusedText(o.Refused), breakersText(o.Breakers))
	}
	return tw.Flush()
}

func rateText(r *gpool.Rate) string {
	if r == nil {
		return "-"
	}
	return strconv.FormatFloat(r.PerSecond, 'g', 4, 64) + "/s burst " + strconv.Itoa(r.Burst)
}

// refusedText lists the reasons that occurred, in ByReason's order.
func refusedText(by map[string]uint64) string {
	var parts []string
	for _, r := range (gpool.Refusals{}).ByReason() {
		if n := by[r.Reason]; n > 0 {
			parts = append(parts, r.Reason+"="+strconv.FormatUint(n, 10))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// breakersText gives each breaker as key:state (the pool's own as
// "pool"), with how often it opened when it did.
func breakersText(bs []gpool.BreakerStats) string {
	if len(bs) == 0 {
		return "-"
	}
	parts := make([]string, len(bs))
	for i, b := range bs {
		key := b.Key
		if key == "" {
			key = "pool"
		}
		parts[i] = key + ":" + b.State.String()
		if b.Opened > 0 {
			parts[i] += fmt.Sprintf("(opened %d×)", b.Opened)
		}
	}
	return strings.Join(parts, " ")
}
