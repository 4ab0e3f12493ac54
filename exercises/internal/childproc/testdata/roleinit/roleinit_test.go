package roleinit

import (
	"fmt"
	"testing"

	"github.com/ipclab/ipclab/exercises/internal/childproc"
)

func init() {
	childproc.Register("forged", func([]string) int {
		fmt.Println("the forged role ran")
		return 0
	})
}

func TestMain(m *testing.M) { childproc.Main(m) }

func TestRuns(t *testing.T) { fmt.Println("TestRuns ran") }
