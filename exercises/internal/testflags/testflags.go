// Package testflags parses a test binary's command line before any code of
// the package under test can run. The grader adds a file that imports it,
// blank, to every package it builds; any test package may import it too,
// and nothing needs it when students run their own go test.
//
//	import _ "github.com/ipclab/ipclab/exercises/internal/testflags"
//
// # Why
//
// The grader runs one test per process (-test.run=^TestX$ with
// -test.v=test2json) and counts a pass only when the events say so and
// the process exits with status 0. The package under test is a
// submission: its package-level variables and init functions run before
// the test binary's main, and the testing package normally parses its
// flags only later, in [testing.M.Run]. Without this package, a
// submission could set os.Args to "-test.run=^$" in an init function
// (or select another test, or turn -test.v off), print a forged
// "--- PASS: TestX" line, and the binary would run no test at all and
// exit 0.
//
// # How
//
// Go initialises every package a package imports before the package
// itself. The package under test's test files import this package, and a
// submission may import only standard packages and the course's own (shm
// imports exercises/shmview), none of which runs code of its: so this
// package's init runs before any of the submission's code. It calls [testing.Init], which defines the test.* flags, and
// [flag.Parse], which parses os.Args as the process was given them.
//
// What follows in the testing package (read in Go 1.26's
// src/testing/testing.go; the same since Go 1.13, which introduced Init,
// and so for every Go the exercises module accepts, 1.25 on):
//
//   - the generated main calls [testing.MainStart], which calls Init
//     again; Init returns at once when it has already run (initRan), so
//     no flag is defined twice;
//   - [testing.M.Run] parses the command line only if !flag.Parsed(),
//     the check that lets a TestMain parse flags itself; here they are
//     parsed, so Run keeps the values parsed at init whatever os.Args
//     holds by then;
//   - the values (test.run, test.v, test.timeout, ...) live in the
//     testing package's unexported variables, which only the flag and
//     testing packages can reach; the course's import allow-lists give a
//     submission neither.
//
// # What it asks of tests
//
// A flag must be defined before the command line is parsed. A test file
// that defined a flag of its own would do so after this package parsed,
// and giving that flag would stop the binary with "flag provided but not
// defined"; a TestMain that called flag.Parse would parse os.Args again,
// as the submission may have left it. The course's test files use no
// flags at all (no "flag" import in exercises/ or testdata/hidden/; the
// grader's structure check rejects one), and childproc.Main does not
// parse: keep it that way.
package testflags

import (
	"flag"
	"testing"
)

func init() {
	testing.Init()
	flag.Parse()
}
