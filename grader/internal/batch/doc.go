// Package batch grades a whole class: every submission under a
// directory, several at once, into a gradebook.
//
// # Submissions
//
// Each entry of the class directory is one submission, named after the
// entry: a folder laid out like the student repository (graded as it is
// on disk), a git repository (a folder with a .git directory of its own,
// graded at HEAD, or at the last commit on its first-parent line before a
// deadline; never its working tree; its blobs are read as stored, so no
// filter its configuration names ever runs), or a
// .zip of a folder (GitHub's "Download ZIP" wraps the repository in one
// folder, which is looked through). Only the exercises folder of an
// archive or a commit is unpacked, and never a symbolic link; an archive
// that would unpack outside its directory, or to more than 64 MiB, is
// unreadable, which its row says.
//
// # What one submission costs another
//
// Nothing but machine time. Each submission is graded by a fork of one
// grading.Grader, with slots of its own, under its own time budget, in
// the sandbox every test runs in: a submission that hangs uses up its own
// budget, not another's; one the grader fails on is a row with status
// "failed", and the batch goes on.
//
// # Outputs
//
//	grades.csv          one row per submission: each exercise's score, total, max,
//	                    status, isolation level, seconds, the commit graded, a note
//	results/NAME.json   the full result (the JSON format, schema ipclab-result/v1)
//	feedback/NAME.md    the student's feedback (the Markdown format)
//	rows/NAME.json      the row, with the submission's content hash and the
//	                    grader's fingerprint
//	batch.json          which submissions this output is for, and whether all are done
//
// A row is written after the files it stands for, each file through a
// rename, so an interrupted batch leaves only whole files; running it
// again grades what is missing and keeps every row whose submission
// (content hash of its exercises folder) and grader (its executable, the
// course's tests, the settings that change a score) are unchanged.
//
// # Shards
//
// With Options.Shard a batch grades one n-th of the class, split by a
// hash of the names, so that n machines (a CI matrix) grade a class
// together; [Merge] checks that every shard is there and complete, and
// writes one gradebook. The course repository's workflow
// .github/workflows/grade-class.yml does this on GitHub Actions, and
// workflow_test.go runs it on the local machine.
package batch
