// Package gocmd holds what the grader's packages share about running the
// go command: the environment that keeps it offline and inside the module
// it is given.
package gocmd

import (
	"os"
	"strings"
)

// offline are the settings every go command the grader runs gets: no
// network (the modules the course needs are fetched beforehand), no
// workspace or toolchain switch, no user configuration.
var offline = []string{
	"GOPROXY=off",
	"GOFLAGS=-mod=readonly",
	"GOWORK=off",
	"GOTOOLCHAIN=local",
	"GOENV=off",
}

// scrubbed are the variables of the grader's environment that the
// settings above replace, or that would point the go command elsewhere.
var scrubbed = []string{"GOPROXY", "GOFLAGS", "GOWORK", "GONOSUMDB", "GONOSUMCHECK", "GOPRIVATE", "GOTOOLCHAIN", "GOENV"}

// OfflineEnv is the grader's environment with the go command told never
// to reach the network, nor to look past the module it is given; extra
// settings ("GOOS=linux") replace the grader's own of the same name.
func OfflineEnv(extra ...string) []string {
	drop := map[string]bool{}
	for _, k := range scrubbed {
		drop[k] = true
	}
	for _, kv := range extra {
		k, _, _ := strings.Cut(kv, "=")
		drop[k] = true
	}
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			env = append(env, kv)
		}
	}
	return append(append(env, offline...), extra...)
}
