package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/fusemax/fusemax/lower"
	"github.com/fusemax/fusemax/reproduce"
	"github.com/spf13/cobra"
)

func addReproduce(root *cobra.Command) {
	var out, compare, profile string
	cmd := &cobra.Command{
		Use:   "reproduce EXPERIMENT [--out DIR] [--compare DIR] [--energy-profile NAME]",
		Short: "Regenerate a paper's evaluation (CSVs, SVG figures, summary.md) from the shipped cascades and specs",
		Long: `reproduce runs every design point of an experiment spec
(specs/experiments/EXPERIMENT.yaml, or a YAML file) through the lowering and the
simulator and writes, in --out: the paper artifact's CSVs (same names,
columns and number formatting), its figures as SVG, and summary.md with the
headline numbers under both energy profiles. With --compare DIR, summary.md
also gives the worst relative error of every column against the CSVs in DIR
(for fusemax-micro24: ../shared/reference/fusemax-micro24/results).

--energy-profile picks the accounting profile of the CSVs, for latency and
energy: fusemax-micro24 (the artifact's, each quirk documented in
specs/profiles/fusemax-micro24.yaml; the default) or physical (the hardware
as its specs describe it), or a profile file.

reproduce flashattention predicts FlashAttention-2/3 forward throughput on
the GPU specs over the published benchmark grid and, with the published
tables (--compare DIR, default ../shared/reference/gpu/results when it
exists), writes the errors; docs/gpu.md.

reproduce sequence-parallel runs the multi-device checks instead (Ring,
Striped, Tree and Ulysses attention against their papers; docs/multidevice.md)
and writes their CSVs, SVG figures and summary.md to --out.

A CSV whose design points cannot all be evaluated is left out, the reason is
in summary.md, and the command exits with status 1 after writing the rest.`,
		Example: `  fusemax reproduce fusemax-micro24
  fusemax reproduce fusemax-micro24 --out /tmp/fm --compare ../shared/reference/fusemax-micro24/results`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := lower.LoadProfile(profile); profile != "" && err != nil {
				return usagef("--energy-profile: %v", err)
			}
			if compare != "" {
				if st, err := os.Stat(compare); err != nil || !st.IsDir() {
					return usagef("--compare %s: not a directory", compare)
				}
			}
			if reproduce.IsGPUExperiment(args[0]) { // GPU kernel throughput (docs/gpu.md)
				return reproduceGPU(cmd, args[0], out, compare)
			}
			if args[0] == reproduce.SequenceParallelName { // multi-device checks (docs/multidevice.md)
				return reproduceSequenceParallel(cmd, out)
			}
			x, err := reproduce.LoadExperiment(args[0])
			if err != nil {
				return err
			}
			if out == "" {
				out = "reproduction/" + x.Name
			}
			opt := reproduce.Options{Profile: profile}
			if w := cmd.ErrOrStderr(); terminal(w) {
				opt.Progress = reproduce.ProgressBar(w, x.Name)
			}
			res, err := reproduce.Run(x, reproduce.NewSimulator(), opt)
			if err != nil {
				return err
			}
			if _, err := reproduce.Write(out, res, compare); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "wrote %s (%d of %d CSVs, figures, summary.md)\n", out, len(res.Tables), len(res.Files))
			if len(res.Failed) > 0 {
				var files []string
				for f := range res.Failed {
					files = append(files, f)
				}
				sort.Strings(files)
				return fmt.Errorf("not reproduced: %s (see %s/summary.md)", strings.Join(files, ", "), out)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "output directory (default reproduction/EXPERIMENT)")
	f.StringVar(&compare, "compare", "", "directory of reference CSVs to compare with, in summary.md")
	f.StringVar(&profile, "energy-profile", "", "accounting profile of the CSVs: fusemax-micro24 (the experiment's default), physical or a profile file")
	root.AddCommand(cmd)
}
