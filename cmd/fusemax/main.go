// Command fusemax reads attention algorithms written as cascades of extended
// Einsums, analyses them, evaluates them, and models their cost on candidate
// accelerator architectures. It only parses flags, calls library functions
// and prints; every verb lives in its own file and adds itself to the root
// command (verbs).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// verbs add the commands to the root, one file each.
var verbs = []func(root *cobra.Command){
	addAnalyze, addCheck, addCompare, addEmitLLVM, addEval, addFmt, addGolden,
	addKernels, addNumerics, addPasses, addReproduce, addSimulate, addSweep, addVersion,
}

// newRootCmd builds the command tree afresh, so that one command line's
// flags never carry over to the next (the tests run many in one process).
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "fusemax",
		Short:         "Design-review numbers for attention accelerators, from cascades of extended Einsums",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, add := range verbs {
		add(root)
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	strictGroups(root)
	return root
}

// usageError marks a bad invocation (exit status 2), as opposed to invalid
// input (exit status 1).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	watchInterrupts(cancel, done)
	code := execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	close(done)
	if ctx.Err() != nil {
		select {} // the interrupt handler reports and exits with status 130
	}
	os.Exit(code)
}

// execute runs one command line and returns its exit status: 0, 1 for
// invalid input, 2 for a bad invocation. Errors go to stderr.
func execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	if msg := err.Error(); msg != "" {
		var in inputError
		if errors.As(err, &in) {
			fmt.Fprintln(stderr, msg)
		} else {
			fmt.Fprintln(stderr, "fusemax:", msg)
		}
	}
	var u usageError
	if errors.As(err, &u) || isCobraUsage(err) {
		return 2
	}
	return 1
}
