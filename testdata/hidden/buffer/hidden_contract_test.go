package buffer

// Hidden tests: the contract under pressure. Exact capacities, FIFO order
// while the queue fills and drains, the rendezvous hand-over, and many
// producers and consumers at once.

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCapacityExact fills bounded queues of several capacities and checks
// that each holds exactly its capacity: not one item more, not one less.
func TestCapacityExact(t *testing.T) {
	capacities := []int{1, 2, 3, 8, 100}
	queues := map[int]*Queue[int]{}
	waiting := newCrowd()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for _, n := range capacities {
		q := NewBounded[int](n)
		queues[n] = q
		for i := 0; i < n; i++ {
			tryPut(t, q, i, nil, fmt.Sprintf("the queue held %d of %d items", i, n))
		}
		tryPut(t, q, n, ErrFull, fmt.Sprintf("the queue held %d of %d items", n, n))
		var err error
		testkit.Within(t, testkit.Patience, fmt.Sprintf("q.PutContext(ctx, %d) on a full queue, with ctx cancelled already,", n), func() { err = q.PutContext(done, n) })
		testkit.RequireErrorIs(t, err, context.Canceled, "q.PutContext(ctx, %d) = %s, want context.Canceled (the queue held %d of %d items, and ctx was cancelled)", n, errName(err), n, n)
		waiting.put(fmt.Sprintf("q.Put(%d) on a full queue of capacity %d", n, n), q, n)
	}
	waiting.Quiet(t, testkit.Grace, "each queue held as many items as its capacity")

	for _, n := range capacities {
		q := queues[n]
		tryGet(t, q, 0, nil, fmt.Sprintf("0 was the first item put into the queue of capacity %d", n))
		r := waiting.Next(t, fmt.Sprintf("a TryGet made room in the full queue of capacity %d", n))
		want := fmt.Sprintf("q.Put(%d) on a full queue of capacity %d", n, n)
		require.Equal(t, want, r.Label, "%v, want %s = nil (a TryGet had made room in that queue)", r, want)
		require.NoError(t, r.Err, "%v, want %s = nil (a TryGet had made room in that queue)", r, want)
		tryPut(t, q, -1, ErrFull, fmt.Sprintf("the Put that waited had filled the queue of capacity %d again", n))
		for i := 1; i <= n; i++ {
			tryGet(t, q, i, nil, fmt.Sprintf("the queue of capacity %d held 1, 2, …, %d", n, n))
		}
		tryGet(t, q, 0, ErrEmpty, fmt.Sprintf("all %d items had been taken", n))
	}

	u := NewUnbounded[int]()
	for i := 0; i < 5000; i++ {
		if err := u.TryPut(i); !assert.NoError(t, err, "q.TryPut(%d) = %s, want nil (an unbounded queue holding %d items still has room)", i, errName(err), i) {
			return
		}
	}
	tryPut(t, NewRendezvous[int](), 1, ErrFull, "a rendezvous queue has no room at all, and no Get was waiting")

	// The smallest bound is 1: below it, NewBounded panics, as documented,
	// rather than make a queue of another kind than the one asked for.
	for _, n := range []int{0, -1} {
		assert.Panics(t, func() { NewBounded[int](n) }, "NewBounded(%d) returned, want a panic (a bounded queue needs a capacity of at least 1; NewRendezvous makes a queue of capacity zero)", n)
	}
}

// TestFIFOOrder checks that items leave in the order they came, while the
// queue is kept nearly full, while a backlog grows and shrinks, and while a
// producer and a consumer run at the same time.
func TestFIFOOrder(t *testing.T) {
	q := NewBounded[int](5)
	for i := 0; i < 5; i++ {
		put(t, q, i, fmt.Sprintf("the queue held %d of 5 items", i))
	}
	for i := 5; i < 300; i++ {
		get(t, q, i-5, fmt.Sprintf("0, 1, …, %d were put in that order, and the queue held 5 items", i-1))
		put(t, q, i, "a Get had just made room")
	}
	for i := 295; i < 300; i++ {
		get(t, q, i, "0, 1, …, 299 were put in that order")
	}

	u := NewUnbounded[int]()
	next, want := 0, 0
	for round := 1; round <= 15; round++ {
		for j := 0; j < 3*round; j++ {
			put(t, u, next, "an unbounded queue always has room")
			next++
		}
		for j := 0; j < 2*round; j++ {
			get(t, u, want, fmt.Sprintf("0, 1, …, %d were put in that order", next-1))
			want++
		}
	}
	for ; want < next; want++ {
		get(t, u, want, fmt.Sprintf("0, 1, …, %d were put in that order", next-1))
	}

	// One producer, one consumer, at the same time.
	for _, k := range []struct {
		name string
		q    *Queue[int]
	}{
		{"NewBounded(4)", NewBounded[int](4)},
		{"NewUnbounded()", NewUnbounded[int]()},
		{"NewRendezvous()", NewRendezvous[int]()},
	} {
		const n = 1000
		var wrong [2]string // one for each goroutine
		testkit.Together(t, 2, testkit.Patience, fmt.Sprintf("a producer putting 0, 1, …, %d and a consumer getting them, on a queue made by %s", n-1, k.name), func(i int) {
			if i == 0 {
				for v := 0; v < n; v++ {
					if err := k.q.Put(v); err != nil {
						wrong[i] = fmt.Sprintf("q.Put(%d) = %s, want nil", v, errName(err))
						return
					}
				}
				return
			}
			for want := 0; want < n; want++ {
				v, err := k.q.Get()
				if v != want || err != nil {
					wrong[i] = fmt.Sprintf("q.Get() = %d, %s, want %d, nil (0, 1, …, %d were put in that order by one producer)", v, errName(err), want, n-1)
					k.q.Close() // release the producer
					return
				}
			}
		})
		// The consumer's finding explains the producer's ErrClosed.
		if w := firstLine(wrong[1], wrong[0]); w != "" {
			require.FailNow(t, "the producer or the consumer went wrong", "%s, on a queue made by %s", w, k.name)
		}
	}
}

// firstLine returns the first of msgs that is not empty.
func firstLine(msgs ...string) string {
	for _, m := range msgs {
		if m != "" {
			return m
		}
	}
	return ""
}

// TestRendezvousHandOff checks the hand-over on a rendezvous queue in all
// its forms: a Put returns only once a Get has taken its item, TryPut
// succeeds only with a Get waiting, TryGet only with a Put waiting.
func TestRendezvousHandOff(t *testing.T) {
	q := NewRendezvous[int]()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	op, err := goPutContext(ctx, q, 1)
	op.StaysBlocked(t, testkit.Grace, "q.PutContext(ctx, 1) on a rendezvous queue, with no Get to take the item,")
	tryGet(t, q, 1, nil, "a PutContext(ctx, 1) was waiting on the rendezvous queue")
	op.Finishes(t, testkit.Patience, "q.PutContext(ctx, 1), after a TryGet took its item,")
	require.NoError(t, *err, "q.PutContext(ctx, 1) = %s, want nil (a TryGet took the item)", errName(*err))
	tryGet(t, q, 0, ErrEmpty, "no Put was waiting any more")

	opGet, o := goGet(q)
	opGet.StaysBlocked(t, testkit.Grace, "q.Get() on a rendezvous queue, with no Put to offer an item,")
	tryPut(t, q, 2, nil, "a Get was waiting on the rendezvous queue")
	opGet.Finishes(t, testkit.Patience, "q.Get(), after q.TryPut(2) handed it an item,")
	requireItem(t, o.v, o.err, 2, "q.Get() = %d, %s, want 2, nil (TryPut(2) succeeded while it waited)", o.v, errName(o.err))
	tryPut(t, q, 3, ErrFull, "the only Get that waited had been served")

	// A Put must not return before the Get that takes its item has even
	// begun. The consumer counts its Gets before it calls them.
	const n = 300
	var started atomic.Int64
	var wrong [2]string // one for each goroutine
	testkit.Together(t, 2, testkit.Patience, fmt.Sprintf("a producer putting 0, 1, …, %d and a consumer getting them, on a rendezvous queue", n-1), func(i int) {
		if i == 0 {
			for v := 0; v < n; v++ {
				if err := q.Put(v); err != nil {
					wrong[i] = fmt.Sprintf("q.Put(%d) = %s, want nil", v, errName(err))
					return
				}
				if s := started.Load(); s <= int64(v) {
					wrong[i] = fmt.Sprintf("q.Put(%d) returned when the consumer had called Get only %d times: on a rendezvous queue Put returns only once a Get has taken the item", v, s)
					q.Close() // release the consumer
					return
				}
			}
			return
		}
		for want := 0; want < n; want++ {
			started.Add(1)
			v, err := q.Get()
			if v != want || err != nil {
				wrong[i] = fmt.Sprintf("q.Get() = %d, %s, want %d, nil", v, errName(err), want)
				q.Close() // release the producer
				return
			}
		}
	})
	if w := firstLine(wrong[0], wrong[1]); w != "" {
		require.FailNow(t, "the producer or the consumer went wrong", w)
	}
}

// TestStressEveryItemOnce has many goroutines share a queue, with every
// form of Put and Get, and checks that every item arrives exactly once and
// that each consumer sees each producer's items in the order they were put.
// First eight consumers empty a queue that is full of items already, so
// that they fight for every item; then four producers and four consumers
// share each kind of queue.
func TestStressEveryItemOnce(t *testing.T) {
	// More processors than cores: the scheduler then also switches
	// goroutines at arbitrary points, which is when split steps interleave.
	testkit.AtLeastProcs(t, 8)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	const items, drainers = 50000, 8
	q := NewUnbounded[int]()
	for i := 0; i < items; i++ {
		if err := q.TryPut(i); !assert.NoError(t, err, "q.TryPut(%d) = %s, want nil (an unbounded queue always has room)", i, errName(err)) {
			return
		}
	}
	testkit.Within(t, testkit.Patience, "q.Close()", q.Close)
	received := make([][]int, drainers)
	problems := make([]string, drainers)
	testkit.Together(t, drainers, testkit.Patience,
		fmt.Sprintf("%d consumers getting the %d items of a closed queue", drainers, items),
		func(c int) { received[c], problems[c] = consume(ctx, q, c) })
	checkEachOnce(t, fmt.Sprintf("a closed unbounded queue that %d consumers emptied", drainers), problems, received, 1, items)
	if t.Failed() {
		return
	}

	const producers, consumers, perProducer = 4, 4, 300
	for _, k := range []struct {
		name string
		q    *Queue[int]
	}{
		{"NewBounded(1)", NewBounded[int](1)},
		{"NewBounded(4)", NewBounded[int](4)},
		{"NewUnbounded()", NewUnbounded[int]()},
		{"NewRendezvous()", NewRendezvous[int]()},
	} {
		q := k.q
		var producing atomic.Int64
		producing.Store(producers)
		received := make([][]int, consumers)
		problems := make([]string, producers+consumers)

		testkit.Together(t, producers+consumers, testkit.Patience,
			fmt.Sprintf("%d producers putting %d items each and %d consumers getting them, on a queue made by %s", producers, perProducer, consumers, k.name),
			func(i int) {
				if i >= producers {
					c := i - producers
					received[c], problems[i] = consume(ctx, q, c)
					return
				}
				defer func() {
					if producing.Add(-1) == 0 {
						q.Close() // the last producer is done: let the consumers finish
					}
				}()
				for j := 0; j < perProducer; j++ {
					v := i*perProducer + j
					var err error
					if j%2 == 0 {
						err = q.Put(v)
					} else {
						err = q.PutContext(ctx, v)
					}
					if err != nil {
						problems[i] = fmt.Sprintf("producer %d: putting %d returned %s, want nil", i, v, errName(err))
						return
					}
				}
			})
		checkEachOnce(t, "a queue made by "+k.name, problems, received, producers, perProducer)
		if t.Failed() {
			return
		}
	}
}

// consume gets items from q, with Get, GetContext and TryGet in turn,
// until q reports ErrClosed, and returns them in the order it got them. It
// describes anything else that went wrong in problem. c numbers the
// consumer, for the message.
func consume(ctx context.Context, q *Queue[int], c int) (got []int, problem string) {
	for j := 0; ; j++ {
		var v int
		var err error
		switch j % 3 {
		case 0:
			v, err = q.Get()
		case 1:
			v, err = q.GetContext(ctx)
		default:
			if v, err = q.TryGet(); testkit.Is(err, ErrEmpty) {
				v, err = q.Get()
			}
		}
		if testkit.Is(err, ErrClosed) {
			return got, ""
		}
		if err != nil {
			return got, fmt.Sprintf("consumer %d: getting an item returned %d, %s, want an item and nil", c, v, errName(err))
		}
		got = append(got, v)
	}
}

// checkEachOnce checks that the consumers received, between them, every
// item of every producer exactly once (producer p put p*perProducer+0,
// p*perProducer+1, …), and that each consumer got each producer's items in
// the order they were put. where names the queue for the messages.
func checkEachOnce(t *testing.T, where string, problems []string, received [][]int, producers, perProducer int) {
	t.Helper()
	for _, p := range problems {
		if p != "" {
			assert.Fail(t, "a producer or a consumer went wrong", "%s (on %s)", p, where)
		}
	}
	count := make([]int, producers*perProducer)
	var strange []int
	disorder := ""
	for c, vs := range received {
		last := make([]int, producers)
		for p := range last {
			last[p] = -1
		}
		for _, v := range vs {
			if v < 0 || v >= len(count) {
				strange = append(strange, v)
				continue
			}
			count[v]++
			p, seq := v/perProducer, v%perProducer
			if seq <= last[p] && disorder == "" {
				disorder = fmt.Sprintf("consumer %d got producer %d's item %d after its item %d, but the producer put them the other way round (on %s: FIFO order broken, or an item delivered twice)", c, p, seq, last[p], where)
			}
			last[p] = seq
		}
	}
	if disorder != "" {
		assert.Fail(t, "FIFO order broken, or an item delivered twice", disorder)
	}
	var lost, twice []string
	for v, n := range count {
		switch {
		case n == 0:
			lost = append(lost, fmt.Sprint(v))
		case n > 1:
			twice = append(twice, fmt.Sprintf("%d (%d times)", v, n))
		}
	}
	if len(lost) > 0 || len(twice) > 0 || len(strange) > 0 {
		sort.Ints(strange)
		assert.Fail(t, "items lost or delivered twice", "of %d items put on %s, %d were never received %s, %d were received more than once %s, and %d received were never put %v",
			len(count), where, len(lost), firstFew(lost), len(twice), firstFew(twice), len(strange), strange)
	}
}

// firstFew lists at most five of vs, for a message.
func firstFew(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	if len(vs) > 5 {
		return "(" + strings.Join(vs[:5], ", ") + ", …)"
	}
	return "(" + strings.Join(vs, ", ") + ")"
}
