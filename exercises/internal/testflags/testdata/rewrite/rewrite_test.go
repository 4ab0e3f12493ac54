package rewrite

import (
	"fmt"
	"testing"
)

// TestSelected fails, so that a binary that runs it exits non-zero.
func TestSelected(t *testing.T) {
	fmt.Println("TestSelected ran")
	t.Fatal("TestSelected fails on purpose")
}
