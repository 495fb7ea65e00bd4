package main

import (
	"github.com/fusemax/fusemax/einsum/passes"
	"github.com/spf13/cobra"
)

func addPasses(root *cobra.Command) {
	var cascade, rank, output string
	cmd := &cobra.Command{
		Use:   "passes FILE|KERNEL [--cascade NAME] [--rank M] [-o table|json]",
		Short: "Minimum passes over a rank's fiber, the pass of every Einsum, and why",
		Long: `passes reports the lower bound of the FuseMax paper: the minimum number of
traversals of a rank's fiber that any mapping of the cascade needs, the pass
of every Einsum, the dependency chain that forces each extra pass, and the
fibers that must then stay on chip between passes (their size as a formula in
the ranks) or be re-read from memory.

The rank defaults to the one the cascade iterates over, or else the one that
needs the most passes (ties: the one most intermediates carry).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "table" && output != "json" {
				return usagef("-o must be table or json, not %q", output)
			}
			c, err := loadCascade(args[0], cascade)
			if err != nil {
				return err
			}
			r, err := passes.Analyze(c, rank)
			if err != nil {
				return err
			}
			if output == "json" {
				return passes.WriteJSON(cmd.OutOrStdout(), r)
			}
			return passes.WriteTable(cmd.OutOrStdout(), r)
		},
	}
	cmd.Flags().StringVar(&cascade, "cascade", "", "the cascade to analyse when the file holds several")
	cmd.Flags().StringVar(&rank, "rank", "", "the rank whose fiber passes are counted over (default: see above)")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	root.AddCommand(cmd)
}
