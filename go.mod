module github.com/ipclab/ipclab

go 1.26.0
