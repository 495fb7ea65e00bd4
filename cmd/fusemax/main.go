// Command fusemax reads attention algorithms written as cascades of extended
// Einsums, analyses them, evaluates them, and models their cost on candidate
// accelerator architectures. It only parses flags, calls library functions
// and prints; every verb lives in its own file and registers itself on the
// root command.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

var rootCmd = &cobra.Command{
	Use:           "fusemax",
	Short:         "Design-review numbers for attention accelerators, from cascades of extended Einsums",
	SilenceUsage:  true,
	SilenceErrors: true,
}

// usageError marks a bad invocation (exit status 2), as opposed to invalid
// input (exit status 1).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func main() {
	rootCmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	strictGroups(rootCmd)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	watchInterrupts(cancel, done)
	err := rootCmd.ExecuteContext(ctx)
	close(done)
	if ctx.Err() != nil {
		select {} // the interrupt handler reports and exits with status 130
	}
	if err == nil {
		return
	}
	if msg := err.Error(); msg != "" {
		var in inputError
		if errors.As(err, &in) {
			fmt.Fprintln(os.Stderr, msg)
		} else {
			fmt.Fprintln(os.Stderr, "fusemax:", msg)
		}
	}
	var u usageError
	if errors.As(err, &u) || isCobraUsage(err) {
		os.Exit(2)
	}
	os.Exit(1)
}
