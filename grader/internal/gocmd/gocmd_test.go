package gocmd

import (
	"slices"
	"testing"
)

func TestOfflineEnv(t *testing.T) {
	t.Setenv("GOPROXY", "https://proxy.example")
	t.Setenv("GOFLAGS", "-mod=mod")
	t.Setenv("GOOS", "windows")
	t.Setenv("IPCLAB_KEPT", "yes")
	env := OfflineEnv("GOOS=linux")
	for _, want := range []string{"GOPROXY=off", "GOFLAGS=-mod=readonly", "GOWORK=off", "GOTOOLCHAIN=local", "GOENV=off", "GOOS=linux", "IPCLAB_KEPT=yes"} {
		if !slices.Contains(env, want) {
			t.Errorf("OfflineEnv lacks %s", want)
		}
	}
	for _, gone := range []string{"GOPROXY=https://proxy.example", "GOFLAGS=-mod=mod", "GOOS=windows"} {
		if slices.Contains(env, gone) {
			t.Errorf("OfflineEnv keeps %s", gone)
		}
	}
}
