module github.com/ipclab/ipclab

go 1.25.0

require (
	github.com/rogpeppe/go-internal v1.16.0
	golang.org/x/sys v0.47.0
)

// The shm solution imports shmview from the exercises module, as students'
// code does; that module is the exercises folder of this repository.
require github.com/ipclab/ipclab/exercises v0.0.0

replace github.com/ipclab/ipclab/exercises => ./exercises

require golang.org/x/tools v0.26.0 // indirect
