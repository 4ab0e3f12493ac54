package counter

import "testing"

// The student's "fixed" visible tests: nothing left that can fail.
func TestIncFromManyGoroutines(t *testing.T) {}
func TestAddFromManyGoroutines(t *testing.T) {}
func TestValueWhileWriting(t *testing.T)     {}
func TestTryIncStopsAtLimit(t *testing.T)    {}
