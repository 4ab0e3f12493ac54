// Package hostile grades the hostile corpus: submissions under
// testdata/submissions written by a student who has read the grader's
// source and wants points the code does not earn.
//
// Its test grades each one as the grader would, and checks two things: the
// submission earns nothing more than the unchanged stub (which `grader
// verify` proves earns zero), and nothing it tried to write outside its
// sandbox exists afterwards. It runs at the namespaces level and, when the
// tests run as root, at the limits level too, where the README documents
// what stays out of reach. testdata/submissions/README.md lists the
// corpus; a new guarantee of the grader brings the submission that would
// break it.
package hostile
