// Package release writes the student repository of the course, the tree
// that GitHub Classroom copies to every student, and Gradescope's
// autograder zip.
//
// # What a release holds
//
//	README.md                         for students: how to work, test, see a score, how grading works
//	.github/workflows/classroom.yml   the autograding workflow (see below)
//	.devcontainer/devcontainer.json   the course's dev container, set up for this tree
//	.gitignore                        the course's
//	exercises/                        the course's exercises/ folder: go.mod, go.sum, per exercise
//	                                  its README, stub and visible tests, and the shared test
//	                                  helpers under exercises/internal
//	exercises/score/                  a small program, go run ./score, that runs the visible
//	                                  tests and adds up their points from points.json
//
// Never in a release: solutions, hidden tests, mutants, the manifests (the
// names and points of hidden tests), the grader's sources. [Write] takes
// the exercises folder as it is on disk (without dot files and go test -c
// binaries), refuses a stub that is byte for byte its reference solution
// (an instructor who tried the solution in place and forgot to restore the
// stub), and builds the rest from templates embedded here.
//
// # The solutions branch
//
// With [Options.Git] the release is a git repository: its main branch is
// the tree above, in one commit, and its solutions branch is one commit on
// top with every reference solution file (solutions/<id>/<file>) over its
// stub (exercises/<n>-<id>/<file>), so that every test passes there.
// Commits are made by "ipclab release <release@ipclab.invalid>" with fixed
// messages, and without the user's git configuration, so that hooks,
// signing or a default branch name set there change nothing.
//
// # The workflow
//
// The student repository holds no hidden tests, so it cannot grade
// itself. Its workflow checks out the instructor's private course
// repository next to the student's code, with a token the instructor
// stores as an organisation secret (IPCLAB_COURSE_TOKEN) and the
// repository's name as an organisation variable (IPCLAB_COURSE_REPO), and
// runs the course's grader on the student's checkout at the namespaces
// isolation level. The grader prints one result per exercise for GitHub
// Classroom's autograding reporter, and Markdown feedback for the run's
// summary. The workflow is generated from the course manifests, so a new
// exercise is a new reporter runner with no edit here.
//
// # Gradescope's autograder
//
// [WriteGradescope] writes the zip a Gradescope programming assignment
// takes (Gradescope's autograder specification: setup.sh and
// run_autograder at its root, its contents in /autograder/source):
//
//	setup.sh          run once, as root, when Gradescope builds the image: gcc with
//	                  apt, the Go of the go line of go.mod from go.dev/dl, the
//	                  modules, the grader built into bin/grader, and the stubs
//	                  graded once (proof that the image grades, and a warm build
//	                  cache)
//	run_autograder    run for every submission: makes the course's files
//	                  unreadable to other users, grades /autograder/submission
//	                  with -format gradescope into /autograder/results/results.json,
//	                  and writes one that says so when the grader fails
//	go.mod go.sum grader/ exercises/ testdata/hidden/
//	                  the course files that building the grader and grading need
//	solutions/README.md
//	                  in place of the solutions: grade needs the directory, not them
//
// Both scripts come from templates embedded here. No mutant, fixture
// submission, dot file or build output goes in, and the zip is the same
// for the same course (fixed file times, sorted paths). An existing zip is
// replaced only with [GradescopeOptions.Force], and one inside a folder
// the zip is made from is refused. GRADESCOPE.md in package report
// documents results.json and the zip for instructors.
//
// # Output directory
//
// OUT may be new or empty. A non-empty OUT is refused ([ErrNotEmpty])
// unless [Options.Force] is set, and even then only an earlier release is
// replaced: never a directory that does not look like one, nor the course
// checkout or a directory around or inside it. The release is built in a
// hidden directory inside OUT and moved into place only when complete, so
// a failure leaves OUT as it was.
package release
