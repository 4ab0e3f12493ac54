// Package course describes the exercises of ipclab as the grader sees them.
//
// Every exercise has a manifest, embedded in the grader from
// manifests/<id>.json, that says where the exercise lives, which files a
// student may edit, which imports and language constructs those files may
// use, every test with its points and time limit, and the bug catalogue
// with the mutants that prove the tests catch each bug.
//
// A [Repo] is a checkout of the course: the instructor's repository (with
// solutions, hidden tests and mutants) or a released student repository
// (exercises only). [Manifests] reads the embedded manifests and checks
// them; [Open] opens a checkout at its root and [FindRepo] finds it from a
// working directory.
package course
