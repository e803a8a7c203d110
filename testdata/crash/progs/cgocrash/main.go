// Command cgocrash crashes with C code on the stack, so that
// scripts/crash-corpus can record cgo frames in tracebacks:
//
//	cgocrash panic       Go code panics while other goroutines are in C calls
//	cgocrash segv        C code dereferences a null pointer
//	cgocrash segv-trace  the same, with a cgo traceback and symbolizer
//	                     installed (runtime.SetCgoTraceback), so that the C
//	                     frames are printed too
package main

/*
#cgo CFLAGS: -g -O0 -fno-omit-frame-pointer
#cgo LDFLAGS: -rdynamic -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <stdint.h>
#include <stddef.h>
#include <unistd.h>

static void c_sleep(int s) { sleep(s); }

__attribute__((noinline)) int c_crash(volatile int *p) { return *p; }

__attribute__((noinline)) int c_crash_deep(int depth, int *p) {
	if (depth == 0) return c_crash(p);
	return c_crash_deep(depth - 1, p) + 1;
}

struct tracebackArg { uintptr_t Context, SigContext, *Buf, Max; };

void c_traceback(void *p) {
	struct tracebackArg *arg = p;
	void *pcs[32];
	int n = backtrace(pcs, 32);
	uintptr_t i, j = 0;
	for (i = 0; i < (uintptr_t)n && j < arg->Max; i++) arg->Buf[j++] = (uintptr_t)pcs[i];
	if (j < arg->Max) arg->Buf[j] = 0;
}

struct symbolizerArg {
	uintptr_t PC;
	const char *File;
	uintptr_t Lineno;
	const char *Func;
	uintptr_t Entry, More, Data;
};

void c_symbolizer(void *p) {
	struct symbolizerArg *arg = p;
	Dl_info info;
	arg->File = NULL; arg->Lineno = 0; arg->Func = NULL; arg->Entry = 0; arg->More = 0;
	if (arg->PC != 0 && dladdr((void *)arg->PC, &info) && info.dli_sname != NULL) {
		arg->Func = info.dli_sname;
		arg->Entry = (uintptr_t)info.dli_saddr;
	}
}
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: cgocrash panic|segv|segv-trace")
		os.Exit(2)
	}
	if os.Args[1] == "segv-trace" {
		runtime.SetCgoTraceback(0, unsafe.Pointer(C.c_traceback), nil, unsafe.Pointer(C.c_symbolizer))
	}
	var started sync.WaitGroup
	for range 3 {
		started.Add(1)
		go func() {
			started.Done()
			C.c_sleep(3600)
		}()
	}
	started.Wait()
	time.Sleep(50 * time.Millisecond) // let them enter C
	switch os.Args[1] {
	case "panic":
		var m map[string]int
		m["x"] = 1
	case "segv", "segv-trace":
		fmt.Println(C.c_crash_deep(3, nil))
	}
}
