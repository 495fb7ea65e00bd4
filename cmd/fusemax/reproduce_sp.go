package main

import (
	"fmt"

	"github.com/fusemax/fusemax/reproduce"
	"github.com/spf13/cobra"
)

// reproduceSequenceParallel is `reproduce sequence-parallel`: the Ring,
// Striped, Tree and Ulysses checks, written as CSVs, SVGs and summary.md.
func reproduceSequenceParallel(cmd *cobra.Command, out string) error {
	if out == "" {
		out = "reproduction/" + reproduce.SequenceParallelName
	}
	var progress func(done, total int)
	if w := cmd.ErrOrStderr(); terminal(w) {
		progress = reproduce.ProgressBar(w, reproduce.SequenceParallelName)
	}
	res, err := reproduce.SequenceParallel(progress)
	if err != nil {
		return err
	}
	if err := reproduce.WriteSequenceParallel(out, res); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d files: tables, figures, summary.md)\n", out, len(res.Order))
	return nil
}
