// Package run runs one test of a compiled test binary in a process of its
// own, and reads back what happened as test2json events.
//
// Each run is a separate process, so a panic, an os.Exit, a deadlock or an
// endless loop in a submission costs the test that provoked it and nothing
// else. The process:
//
//   - starts in a process group of its own, and the whole group is killed
//     when the time limit passes, when the output limit is reached, and
//     once more when the test has ended, so that no child it started is
//     left running;
//   - gets a scrubbed environment: no tokens, no GITHUB_* files, only what
//     a test needs (PATH, a private HOME and TMPDIR, GORACE);
//   - runs with -test.paniconexit0, so that os.Exit(0) in a test is a
//     failure rather than a silent success, and with -test.timeout set to
//     the time limit, so a hang ends with the goroutine dump that explains
//     it.
//
// # What counts as a pass
//
// The binary's output is converted to events by the Go toolchain's own
// test2json, after the process has ended. A submission can print anything,
// including lines that look like the testing package's own, so the events
// alone do not decide: [Outcome.Passed] also requires that the process
// exited with status 0, which the testing package does only when every
// test it ran passed. The static checks of package submission forbid the
// calls that would end the process with status 0 behind its back.
package run
