package grading

// CounterWithLimit lets the external tests (package grading_test, which
// may import report, and so verify, which imports this package) shorten
// the counter's time limits as the internal ones do.
var CounterWithLimit = counterWithLimit
