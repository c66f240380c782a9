// loop: a Go program that calls one small non-inlined function in a tight
// loop and prints the time per call. tools/probecost attaches a uprobe to
// main.work and compares the per-call time with and without it.
package main

import (
	"flag"
	"fmt"
	"time"
)

var sink int

//go:noinline
func leaf(x int) int { return x ^ 0x5a }

// work calls leaf, so the compiler gives it a frame and the stack-check
// prologue (cmp rsp, [r14+0x10]; jbe) that cpprof probes.
//
//go:noinline
func work(x int) int {
	var buf [64]byte
	buf[x&63] = byte(x)
	return leaf(x) + int(buf[(x+1)&63])
}

func main() {
	n := flag.Int("n", 2000000, "calls")
	flag.Parse()
	start := time.Now()
	s := 0
	for i := 0; i < *n; i++ {
		s += work(i)
	}
	el := time.Since(start)
	sink = s
	fmt.Printf("ns_per_call %.1f\n", float64(el.Nanoseconds())/float64(*n))
}
