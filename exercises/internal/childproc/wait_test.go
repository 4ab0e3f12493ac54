//go:build unix

package childproc

import "time"

// waitABit paces a polling loop in this package's own tests.
func waitABit() { time.Sleep(10 * time.Millisecond) }
