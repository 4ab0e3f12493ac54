package ipcbench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Mechanisms are the ways to talk measured, in the order of the table,
// with the names the benchmarks use.
var Mechanisms = []struct{ Key, Name string }{
	{"shm", "shared-memory ring (exercise 2)"},
	{"pipe", "anonymous pipe"},
	{"fifo", "named pipe (FIFO)"},
	{"unix", "Unix-domain socket"},
	{"tcp", "TCP on loopback"},
	{"udp", "UDP on loopback"},
}

// A Target is one of the reference system's performance targets.
type Target struct {
	What string
	// Got and Want are the measured ratio and the least (or, with
	// AtMost, the most) it may be.
	Got, Want float64
	AtMost    bool
	// Missing says why the ratio could not be computed ("" when it was).
	Missing string
}

// Met reports whether the target holds.
func (t Target) Met() bool {
	if t.Missing != "" {
		return false
	}
	if t.AtMost {
		return t.Got <= t.Want
	}
	return t.Got >= t.Want
}

func (r *Results) get(name string) Measure { return r.Measures[name] }

// ratio is a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// Targets are the reference system's targets, computed from r.
func (r *Results) Targets() []Target {
	shm64, pipe64 := r.get("Throughput/shm/64").MsgsPerS, r.get("Throughput/pipe/64").MsgsPerS
	shmRT, pipeRT := r.get("RoundTrip/shm").NsPerOp, r.get("RoundTrip/pipe").NsPerOp
	pipe64k := r.get("Throughput/pipe/65536").MBPerS
	rpcEx, rpcStd := r.get("Calls/exercise").CallsPer, r.get("Calls/net-rpc").CallsPer
	mon, ch := r.get("HandOff/monitor").MsgsPerS, r.get("HandOff/channel").MsgsPerS
	ts := []Target{
		{What: "shm ring at 64 B, messages/s, against the pipe's", Got: ratio(shm64, pipe64), Want: 10},
		{What: "shm round trip against the pipe's", Got: ratio(shmRT, pipeRT), Want: 1.0 / 20, AtMost: true},
		{What: "pipe at 64 KiB, MB/s, against dd bs=64k | dd bs=64k", Got: ratio(pipe64k, r.DDMBPerS), Want: 0.7},
		{What: "exercise RPC calls/s (8 callers) against net/rpc", Got: ratio(rpcEx, rpcStd), Want: 1.0},
		{What: "buffer monitor against a buffered channel (1 producer, 1 consumer)", Got: ratio(mon, ch), Want: 0.5},
	}
	for i := range ts {
		if ts[i].Got == 0 {
			ts[i].Missing = "not measured"
		}
	}
	return ts
}

// Table prints the measures, the comparisons and the targets.
func (r *Results) Table(w io.Writer) error {
	fmt.Fprintf(w, "Measured on this machine, %s code, without the race detector.\n\n", r.Code)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "mechanism\t64 B msgs/s\tvs pipe\t64 KiB MB/s\tvs pipe\t1-byte round trip\tvs pipe\t\n")
	pipe64 := r.get("Throughput/pipe/64").MsgsPerS
	pipe64k := r.get("Throughput/pipe/65536").MBPerS
	pipeRT := r.get("RoundTrip/pipe").NsPerOp
	for _, m := range Mechanisms {
		t64 := r.get("Throughput/" + m.Key + "/64").MsgsPerS
		big := r.get("Throughput/" + m.Key + "/65536").MBPerS
		rt := r.get("RoundTrip/" + m.Key).NsPerOp
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", m.Name,
			count(t64), times(ratio(t64, pipe64)),
			count(big), times(ratio(big, pipe64k)),
			duration(rt), times(ratio(rt, pipeRT)))
	}
	if r.DDMBPerS > 0 {
		fmt.Fprintf(tw, "dd bs=64k | dd bs=64k\t\t\t%s\t%s\t\t\t\n", count(r.DDMBPerS), times(ratio(r.DDMBPerS, pipe64k)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "(UDP's large messages are 65,000-byte datagrams, just under the largest, 65,507; at most 16 or 192 KiB in flight, since UDP drops what a receiver cannot take.)\n\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "exercise code\tper second\tGo's own\tper second\tratio\t\n")
	pairs := []struct{ name, a, other, b, unit string }{
		{"RPC (exercise 9), 8 callers", "Calls/exercise", "net/rpc", "Calls/net-rpc", "calls"},
		{"bounded buffer (exercise 3)", "HandOff/monitor", "chan int, cap 64", "HandOff/channel", "msgs"},
	}
	for _, p := range pairs {
		a, b := r.get(p.a), r.get(p.b)
		av, bv := a.CallsPer+a.MsgsPerS, b.CallsPer+b.MsgsPerS
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", p.name, count(av), p.other, count(bv), times(ratio(av, bv)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Code != "reference" {
		return nil
	}
	fmt.Fprintf(w, "\nTargets of the reference system:\n")
	for _, t := range r.Targets() {
		mark, cmp := "ok  ", ">="
		if !t.Met() {
			mark = "MISS"
		}
		if t.AtMost {
			cmp = "<="
		}
		got := times(t.Got)
		if t.Missing != "" {
			got = t.Missing
		}
		fmt.Fprintf(w, "  %s %s: %s (want %s %s)\n", mark, t.What, got, cmp, times(t.Want))
	}
	return nil
}

// count prints a rate with three significant digits: "12.3M", "456k".
func count(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v >= 1e9:
		return fmt.Sprintf("%.3gG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3gk", v/1e3)
	}
	return fmt.Sprintf("%.3g", v)
}

// times prints a ratio: "12.5x", "0.048x".
func times(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3gx", v)
}

// duration prints nanoseconds as µs with three significant digits.
func duration(ns float64) string {
	if ns == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3gµs", ns/1e3)
}
