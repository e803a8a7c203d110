// Package procfs reads what the Linux kernel says about a process's CPU:
// the CPU time it used, how long its threads waited runnable for a CPU
// (run delay), the CPU limit and throttling of its cgroup, and the load
// of the host; and it maps a local listening TCP port to the process that
// holds it and counts a process's sockets. It uses the standard library
// only. On other systems every reader returns ErrUnsupported.
//
// A Sample is one reading; Diff turns two readings of the same process
// into Rates over the time between them, which is what a diagnosis needs:
// CPU used in cores, run delay in seconds per second, the share of cgroup
// enforcement periods that were throttled, the host's busy and stolen
// share.
//
// # Where the figures come from
//
//	CPU time        /proc/PID/stat fields 14 and 15 (utime, stime), in
//	                clock ticks of 1/100 s (USER_HZ is 100 on every Linux
//	                architecture Go supports)
//	run delay       /proc/PID/task/*/schedstat, second field, in ns: time
//	                each thread spent runnable but not running
//	CPUs allowed    /proc/PID/status Cpus_allowed_list (taskset, cpusets)
//	cgroup          /proc/PID/cgroup names the cgroup; /proc/self/mountinfo
//	                where its hierarchy is mounted. cgroup v1: the "cpu"
//	                hierarchy's cpu.cfs_quota_us, cpu.cfs_period_us and
//	                cpu.stat (nr_periods, nr_throttled, throttled_time in
//	                ns); v2: cpu.max and cpu.stat (nr_periods, nr_throttled,
//	                throttled_usec). The limit is the smallest quota of the
//	                cgroup and its ancestors, and the throttling figures are
//	                that cgroup's, since it is where the quota is enforced.
//	host            /proc/stat (the cpu line; cpuN lines count the CPUs;
//	                procs_running) and /proc/loadavg
//	listeners       /proc/net/tcp and /proc/net/tcp6 (state 0A, LISTEN)
//	                give a socket inode; /proc/*/fd/* links "socket:[N]"
//	                give its process
//
// Run delay is the kernel's schedstat accounting (CONFIG_SCHED_INFO),
// present in the usual distribution kernels; when it is missing, Sample
// says so in Unavailable. A thread that exits between two readings takes
// its run delay with it, so Diff counts the threads present in both
// readings plus the whole delay of threads that appeared in between.
//
// Reading another user's process needs the rights ptrace would need for
// some files (fd links); Read reports what it could not read rather than
// failing, except when the process does not exist.
//
// # Cost
//
// Read opens 6 + (threads) small files: 0.8 ms for a test process of about
// ten threads on a busy 2-core machine (BenchmarkRead). Sockets and
// ListenerPID read the host's TCP tables (/proc/net/tcp and tcp6), for
// which the kernel walks its whole socket hash table: 22 ms here with 64
// sockets (BenchmarkSockets), nearly all of it kernel time; ListenerPID
// also walks every process's fds.
// Measured with go test -bench . -benchtime 200x ./procfs/.
//
// Everything here is safe for concurrent use: the functions keep no state.
package procfs
