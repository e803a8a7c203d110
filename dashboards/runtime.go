package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// gcCPU is the CPU time the GC costs the program, in cores: all GC work
// but the marking done on otherwise idle Ps.
var gcCPU = rate("go_cpu_classes_gc_total_cpu_seconds_total") + " - " + rate("go_cpu_classes_gc_mark_idle_cpu_seconds_total")

// gcCPUShare is gcCPU over the CPU time the process used (total less idle,
// and less the idle marking left out of gcCPU): the figure of the
// GdiagGCOverhead alert.
var gcCPUShare = "(" + gcCPU + ") / (" + rate("go_cpu_classes_total_cpu_seconds_total") +
	" - " + rate("go_cpu_classes_idle_cpu_seconds_total") +
	" - " + rate("go_cpu_classes_gc_mark_idle_cpu_seconds_total") + ")"

// Runtime returns the "Go runtime" dashboard (UID gdiag-runtime): memory,
// garbage collection, allocation rate, goroutines and threads, from the
// go_* series of client_golang's Go collector (which the prometheus
// exporter registers with Options.GoCollector). It returns the builder's
// error, if any.
func Runtime() (dashboard.Dashboard, error) {
	return build(base("gdiag-runtime", "Go runtime (gdiag)",
		"Go runtime overview from client_golang's Go collector: memory, garbage collection and allocation.",
		"go_info").
		WithRow(row("Settings")).
		WithPanel(single("GOGC", "The GOGC setting: heap growth, in percent of the live heap, that triggers a collection.", unitPercent, 8,
			query{sel("go_gc_gogc_percent"), "{{instance}}"})).
		WithPanel(single("GOMEMLIMIT", "The soft memory limit (math.MaxInt64 when unset).", unitBytes, 8,
			query{sel("go_gc_gomemlimit_bytes"), "{{instance}}"})).
		WithPanel(single("GOMAXPROCS", "The GOMAXPROCS setting, from the runtime's /sched/gomaxprocs metric.", unitCount, 8,
			query{sel("go_sched_gomaxprocs_threads"), "{{instance}}"})).
		WithRow(row("Memory")).
		WithPanel(graph("Heap",
			"Bytes of live and not-yet-swept heap objects, heap spans in use, and the heap size that triggers the next collection.",
			unitBytes, 12,
			query{sel("go_memstats_heap_alloc_bytes"), "{{instance}} allocated"},
			query{sel("go_memstats_heap_inuse_bytes"), "{{instance}} in use"},
			query{sel("go_memstats_next_gc_bytes"), "{{instance}} next GC"},
		)).
		WithPanel(graph("Memory from the OS",
			"Bytes obtained from the OS in total and for the heap, bytes returned to it, and goroutine stacks in use.",
			unitBytes, 12,
			query{sel("go_memstats_sys_bytes"), "{{instance}} total"},
			query{sel("go_memstats_heap_sys_bytes"), "{{instance}} heap"},
			query{sel("go_memstats_heap_released_bytes"), "{{instance}} released"},
			query{sel("go_memstats_stack_inuse_bytes"), "{{instance}} stacks"},
		)).
		WithRow(row("Allocation and GC")).
		WithPanel(graph("Allocation rate",
			"Bytes allocated on the heap per second; the main driver of GC frequency.",
			unitBytesRate, 8,
			query{rate("go_memstats_alloc_bytes_total"), "{{instance}}"},
		).Links([]cog.Builder[dashboard.DashboardLink]{profileLink("Allocation profile", allocProfile, "")})).
		WithPanel(graph("Objects allocated and freed",
			"Heap objects allocated and freed per second.",
			unitPerSecond, 8,
			query{rate("go_memstats_mallocs_total"), "{{instance}} allocated"},
			query{rate("go_memstats_frees_total"), "{{instance}} freed"},
		)).
		WithPanel(graph("Live objects",
			"Heap objects allocated and not yet freed.",
			unitCount, 8,
			query{sel("go_memstats_heap_objects"), "{{instance}}"},
		)).
		WithPanel(graph("GC cycles",
			"Garbage collections completed per second.",
			unitPerSecond, 12,
			query{rate("go_gc_duration_seconds_count"), "{{instance}}"},
		)).
		WithPanel(graph("GC CPU share",
			"The garbage collector's share of the CPU time the process used, from the runtime's own accounting (/cpu/classes/): GC work, concurrent marking and assists included, marking on otherwise idle Ps left out, as the GdiagGCOverhead alert (threshold 25%) and the runtime's GC CPU limiter (50%) count it; and the GC's share of all the CPU time GOMAXPROCS allows. The runtime updates these figures at the end of each GC cycle, so a window without a cycle shows a gap.",
			unitRatio, 12,
			query{gcCPUShare, "{{instance}} of CPU used"},
			query{"(" + rate("go_cpu_classes_gc_total_cpu_seconds_total") + ") / (" + rate("go_cpu_classes_total_cpu_seconds_total") + ")", "{{instance}} of GOMAXPROCS"},
		)).
		WithPanel(stacked("CPU time by class",
			"Cores busy with user Go code, the GC (marking on otherwise idle Ps apart) and the scavenger, from the runtime's own accounting (/cpu/classes/), updated at the end of each GC cycle.",
			unitCores, 12,
			query{rate("go_cpu_classes_user_cpu_seconds_total"), "{{instance}} user"},
			query{gcCPU, "{{instance}} GC"},
			query{rate("go_cpu_classes_gc_mark_idle_cpu_seconds_total"), "{{instance}} GC on idle Ps"},
			query{rate("go_cpu_classes_scavenge_total_cpu_seconds_total"), "{{instance}} scavenger"},
		)).
		WithPanel(graph("GC stop-the-world pauses",
			"Quantiles of the stop-the-world pause of recent collections, as client_golang's summary reports them (the median and the maximum).",
			unitSeconds, 12,
			query{sel("go_gc_duration_seconds", `quantile="0.5"`), "{{instance}} median"},
			query{sel("go_gc_duration_seconds", `quantile="1"`), "{{instance}} max"},
		)).
		WithRow(row("Goroutines and threads")).
		WithPanel(graph("Goroutines and threads",
			"Goroutines alive and OS threads created, from the Go collector. The scheduler dashboard breaks these down.",
			unitCount, 24,
			query{sel("go_goroutines"), "{{instance}} goroutines"},
			query{sel("go_threads"), "{{instance}} threads"},
		)),
	)
}
