package pools

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	gpool "github.com/gdiag/gdiag/pool"
)

// guarded is a pool with every overload control: an adaptive limit,
// both token buckets, shedding (standing), and a breaker per key, one
// open.
func guarded(shed uint64) apiv1.Pool {
	p := pool("api", 1000, 40+shed)
	p.Limit, p.Adaptive = 5, true
	p.Rate, p.KeyRate = gpool.Rate{PerSecond: 360, Burst: 36}, gpool.Rate{PerSecond: 2.5, Burst: 1}
	p.ShedTarget, p.Shedding = 5*time.Millisecond, true
	p.Refused = gpool.Refusals{QueueFull: 40, ShedWait: shed}
	p.BreakerOpens = 3
	p.Breakers = []gpool.BreakerStats{{Key: "tenant-a", State: gpool.BreakerOpen, Opened: 3}, {State: gpool.BreakerClosed, Requests: 50}}
	return p
}

func TestOverload(t *testing.T) {
	rep := buildReport("1234", []apiv1.Pool{guarded(100), pool("plain", 10, 0)}, []apiv1.Pool{guarded(300), pool("plain", 20, 0)}, 2*time.Second)
	o := rep.Pools[0].Overload
	if o == nil || o.Limit != 5 || !o.Adaptive || o.Rate == nil || o.Rate.PerSecond != 360 || o.KeyRate == nil ||
		!o.Shedding || o.ShedTargetSeconds != 0.005 || o.ShedPerSec == nil || *o.ShedPerSec != 100 ||
		o.Refused["shed_wait"] != 300 || o.Refused["queue_full"] != 40 || len(o.Refused) != 2 || len(o.Breakers) != 2 {
		t.Errorf("overload of a guarded pool = %+v; want its controls, 100 shed/s and two reasons", o)
	}
	if rep.Pools[1].Overload != nil {
		t.Errorf("overload of a pool without controls = %+v; want nil", rep.Pools[1].Overload)
	}

	var out bytes.Buffer
	if err := printTable(&cli.Env{Stdout: &out}, "1234", rep); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"POOL  LIMIT/MAX", "api   5/8 adaptive", "360/s burst 36", "2.5/s burst 1", "YES (target 5ms)", "100",
		"queue_full=40 shed_wait=300", "tenant-a:open(opened 3×) pool:closed",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}
	if strings.Count(text, "plain") != 1 {
		t.Errorf("a pool without controls has a row in the overload table:\n%s", text)
	}

	b, err := json.Marshal(rep.Pools[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"overload":{"limit":5,"adaptive":true,"rate":{"perSecond":360,"burst":36}`, `"state":"open"`, `"shedPerSec":100`} {
		if !strings.Contains(string(b), w) {
			t.Errorf("json.Marshal(row) = %s; want %s in it", b, w)
		}
	}
	if b, _ := json.Marshal(rep.Pools[1]); strings.Contains(string(b), "overload") {
		t.Errorf("json.Marshal(row without controls) = %s; want no overload", b)
	}
}
