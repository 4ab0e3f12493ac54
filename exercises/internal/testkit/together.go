package testkit

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// AtLeastProcs raises GOMAXPROCS to n for the rest of the test, when it is
// lower, and restores the old value when the test ends. Races only show up
// when goroutines really run at the same time, which needs more than one
// processor even on a single-core runner.
func AtLeastProcs(t testing.TB, n int) {
	t.Helper()
	prev := runtime.GOMAXPROCS(0)
	if prev >= n {
		return
	}
	runtime.GOMAXPROCS(n)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
}

// Together starts fn(0), fn(1), …, fn(n-1) on n new goroutines, holds them
// at a start barrier until every one of them is running, releases them all
// at once, and waits up to d for all of them to return. It fails the test
// (t.Fatalf) if they have not returned by then; what names the work for
// the failure message, in call form.
//
// fn runs on a goroutine that is not the test's: it must not call
// t.Fatal. Let each goroutine record its results in a slot of its own (a
// slice indexed by i) and check them after Together returns, which happens
// after every fn has returned.
func Together(t testing.TB, n int, d time.Duration, what string, fn func(i int)) {
	t.Helper()
	var ready, done sync.WaitGroup
	var returned atomic.Int64
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			ok := false
			defer func() {
				if !ok {
					crashOnPanic(recover())
				}
				done.Done()
			}()
			ready.Done()
			<-start
			fn(i)
			ok = true
			returned.Add(1)
		}(i)
	}
	Within(t, d, "starting "+what, ready.Wait)
	close(start)
	Within(t, d, what, done.Wait)
	if got := returned.Load(); got != int64(n) {
		t.Fatalf("%s: %d of %d goroutines ended without returning (runtime.Goexit?)", what, int64(n)-got, n)
	}
}
