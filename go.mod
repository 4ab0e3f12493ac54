module github.com/ipclab/ipclab

go 1.25.0

require (
	github.com/rogpeppe/go-internal v1.16.0
	golang.org/x/sys v0.47.0
)

require golang.org/x/tools v0.26.0 // indirect
