//go:build cgo_ext

package main

// Built only for the cgo fixture (CGO_ENABLED=1 -tags cgo_ext
// -ldflags=-linkmode=external): puts C code into the binary's .text, linked
// by the system linker, and calls it once at start.

/*
#include <stdint.h>

__attribute__((noinline)) int cpprof_testserver_c_init(int x) {
	volatile int acc = 0;
	for (int i = 0; i < x; i++)
		acc += i * 31 + 7;
	return acc;
}
*/
import "C"

func init() {
	cgoInit = func() int { return int(C.cpprof_testserver_c_init(C.int(16))) }
}
