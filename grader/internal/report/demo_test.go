package report

import "github.com/ipclab/ipclab/grader/internal/course"

var demoBuffer = course.Exercise{
	ID: "buffer", Title: "Producer-consumer buffers",
	Tests: []course.Test{{Name: "TestBoundedFIFO", Points: 20}, {Name: "TestCloseWakesWaiters", Points: 80, Hidden: true}},
}
