// Package pipe connects a parent process to its children with ordinary
// pipes: one child run as a filter (the parent writes its standard input
// and reads its standard output at the same time), and several children
// joined into a shell pipeline, a | b | c, where each child's output flows
// through the kernel straight into the next child's input.
//
// The exercise needs a Unix kernel (Linux or macOS). On Windows, run it in
// WSL or in the repository's dev container; the tests say so and stop.
//
// YOUR TASK: write Filter and Pipeline in pipe.go. README.md explains pipes,
// their two ends, end-of-file, the pipe buffer and the deadlock it causes,
// zombies and close-on-exec; the tests in pipe_test.go are the contract.
package pipe
