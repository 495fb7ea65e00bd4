package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/fusemax/fusemax/reproduce"
	"github.com/spf13/cobra"
)

// reproduceGPU is `reproduce flashattention` (an experiment spec of kind
// gpu-throughput): predictions, the CSV against the published tables, a
// figure per GPU and summary.md.
func reproduceGPU(cmd *cobra.Command, ref, out, compare string) error {
	x, err := reproduce.LoadGPUExperiment(ref)
	if err != nil {
		return err
	}
	if out == "" {
		out = "reproduction/" + x.Name
	}
	if compare == "" && x.Reference != "" {
		if st, err := os.Stat(x.Reference); err == nil && st.IsDir() {
			compare = x.Reference
		}
	}
	var progress func(done, total int)
	if w := cmd.ErrOrStderr(); terminal(w) {
		progress = reproduce.ProgressBar(w, x.Name)
	}
	res, err := reproduce.RunGPU(x, reproduce.NewGPUEvaluator(), compare, progress)
	if err != nil {
		return err
	}
	if err := reproduce.WriteGPU(out, res); err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "wrote %s (%s.csv, a figure per GPU, summary.md)\n", out, x.Name)
	if compare != "" {
		e := res.Errors()
		fmt.Fprintf(w, "%d published rows: mean |error| %.2f%%, worst %.2f%% (%s); not fitted on: mean %.2f%% over %d rows\n",
			e.Rows, 100*e.Mean, 100*e.Max, e.WorstRow, 100*e.HeldOutMean, e.HeldOut)
		if e.Mean > x.MaxMean || e.Max > x.MaxAny {
			return fmt.Errorf("targets not met: mean %.2f%% (target %.0f%%), worst %.2f%% (target %.0f%%)", 100*e.Mean, 100*x.MaxMean, 100*e.Max, 100*x.MaxAny)
		}
	}
	if f := res.Failed(); len(f) > 0 {
		return fmt.Errorf("not predicted: %s", strings.Join(f, "; "))
	}
	return nil
}
