//go:build unix

package pipe

// Helpers of the hidden tests that run many cases: a pipeline built from
// a list of roles, and a result that must be an error in some cases and
// nil in the others.

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
)

// runStages runs in through a pipeline of children, one per role (each
// role followed by its arguments), with Pipeline, and returns the
// commands, the call as failure messages name it, and what Pipeline
// returned. What the pipeline wrote is not kept.
func runStages(t *testing.T, roles [][]string, in []byte) (cmds []*exec.Cmd, call string, err error) {
	t.Helper()
	cmds = make([]*exec.Cmd, len(roles))
	for i, r := range roles {
		cmds[i] = child(t, r[0], r[1:]...)
	}
	var out bytes.Buffer
	label := size(len(in)) + " of input"
	err = pipeline(t, context.Background(), bytes.NewReader(in), &out, label, cmds...)
	return cmds, fmt.Sprintf("Pipeline(ctx, %s, out, %s)", label, describeAll(cmds)), err
}

// errorIfWanted checks that call returned an error when wantErr is set,
// and nil when it is not; why says why.
func errorIfWanted(t *testing.T, call string, err error, wantErr bool, why string) bool {
	t.Helper()
	if wantErr {
		return assert.Error(t, err, "%s = %s, want an error (%s)", call, show(err), why)
	}
	return assert.NoError(t, err, "%s = %s, want nil (%s)", call, show(err), why)
}
