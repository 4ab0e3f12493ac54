//go:build unix

package childproc

import (
	"os"
	"testing"
)

// Main runs a child role when the test binary was started as one, and the
// tests otherwise. Call it from TestMain.
func Main(m *testing.M) {
	runRole()
	os.Exit(m.Run())
}
