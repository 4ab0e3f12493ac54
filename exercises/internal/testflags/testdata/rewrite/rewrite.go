// Package rewrite plays a submission that, in its package initialisation,
// rewrites the command line so that the testing package would run no
// test, and prints the lines of a pass it did not earn.
package rewrite

import (
	"fmt"
	"os"
)

func init() {
	os.Args = []string{os.Args[0], "-test.run=^$"}
	fmt.Println("=== RUN   TestSelected")
	fmt.Println("--- PASS: TestSelected (0.00s)")
}
