module github.com/ipclab/ipclab/exercises

go 1.25.0

require go.uber.org/goleak v1.3.0

require golang.org/x/sys v0.47.0
