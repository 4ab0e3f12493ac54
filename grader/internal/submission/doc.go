// Package submission takes a student's files out of a submission and checks
// them before anything is compiled.
//
// A submission is a directory laid out like the student repository. Only
// the files an exercise's manifest marks editable are ever read from it
// ([Collect]); every other file, tests and go.mod included, comes from the
// course repository. Other files found beside the editable ones are listed
// as ignored, so the student learns that an edited test file does not
// count.
//
// [Check] then looks at each editable file without running it: it must
// parse, belong to the exercise's package, import only what the manifest
// allows, use no cgo, no //go:linkname or other compiler directive that
// reaches outside the language, no build constraint, none of the
// constructs the exercise forbids (channels in the buffer exercise), and
// no call that ends the process behind the testing package's back
// (syscall.Exit and raw system calls). A [Problem] names the file, line and
// column, and says what to do in words a student can follow.
package submission
