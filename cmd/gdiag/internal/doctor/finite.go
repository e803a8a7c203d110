package doctor

import "slices"

// finiteObservation returns a copy of o whose measured numbers are all
// finite: NaN and infinities, which no real profile or kernel reading
// holds and which would make the report's arithmetic and its JSON
// meaningless, become 0. o itself is left as it is.
func finiteObservation(o *Observation) *Observation {
	c := *o
	c.MemoryLimit = finite(o.MemoryLimit)
	if o.CPU != nil {
		p := *o.CPU
		p.Seconds, p.GCSeconds = finite(p.Seconds), finite(p.GCSeconds)
		p.Top, p.App = finiteFuncs(p.Top), finiteFuncs(p.App)
		c.CPU = &p
	}
	c.Mutex, c.Block = finiteContention(o.Mutex), finiteContention(o.Block)
	if o.Allocs != nil {
		a := *o.Allocs
		a.Bytes, a.Top = finite(a.Bytes), finiteFuncs(a.Top)
		c.Allocs = &a
	}
	c.Mem = slices.Clone(o.Mem)
	for i := range c.Mem {
		c.Mem[i].GCCPUFraction = finite(c.Mem[i].GCCPUFraction)
	}
	c.OS = slices.Clone(o.OS)
	for i := range c.OS {
		s := &c.OS[i].Sample
		s.Cgroup.Quota, s.Host.Load1 = finite(s.Cgroup.Quota), finite(s.Host.Load1)
	}
	return &c
}

func finiteContention(c *Contention) *Contention {
	if c == nil {
		return nil
	}
	out := *c
	out.Seconds, out.Events, out.Top = finite(c.Seconds), finite(c.Events), finiteFuncs(c.Top)
	return &out
}

func finiteFuncs(fs []Func) []Func {
	out := slices.Clone(fs)
	for i := range out {
		out[i].Flat, out[i].Percent = finite(out[i].Flat), finite(out[i].Percent)
	}
	return out
}
