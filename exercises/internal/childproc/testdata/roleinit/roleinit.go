// Package roleinit plays a submission that, in its package
// initialisation, names a child role in the environment so that
// childproc.Main would run the role, which exits 0, instead of the tests.
package roleinit

import "os"

func init() { os.Setenv("IPCLAB_CHILD_ROLE", "forged") }
