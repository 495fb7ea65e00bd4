package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/einsum/analyze"
	"github.com/fusemax/fusemax/kernels"
	"github.com/spf13/cobra"
)

const defaultAnalyzeShape = "E=64,F=64,M=1024,M0=256,P=1024,K=1024,N=64,S=8,S0=2,H=4,G=2,W=256,T=2,P0=256,J=256"

func addAnalyze(root *cobra.Command) {
	var shape, output, maxMemory string
	var seed uint64
	cmd := &cobra.Command{
		Use:   "analyze [FILE|KERNEL...]",
		Short: "Pass counts and a CPU evaluation of cascades, outputs compared with each other",
		Long: `analyze runs the pass analysis of every cascade given (default: every
built-in kernel) and evaluates each on the reference interpreter at --shape,
on seeded inputs. Inputs with the same name get the same values in every
cascade, so an output that several cascades produce from the same inputs
is compared with the first cascade that produced it; a cascade whose
comment has a line "Computes: NAME" only with cascades that say the same
(the softmax attention kernels with each other, not with sigmoid
attention). For a split rank it also shows the passes over each part and
what each re-reads, with its size. The largest
absolute and relative difference show whether a cascade computes what the
others do: it agrees when the relative difference is at most 1e-9 and the
same points are defined, else analyze reports DIFFER and exits with status 1.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "table" && output != "json" {
				return usagef("-o must be table or json, not %q", output)
			}
			if len(args) == 0 {
				args = kernels.Names()
			}
			s, err := einsum.ParseShape(shape)
			if err != nil {
				return usagef("--shape: %v", err)
			}
			var cascades []*einsum.Cascade
			for _, a := range args {
				prog, _, err := loadProgram(a)
				if err != nil {
					return err
				}
				cascades = append(cascades, prog.Cascades...)
			}
			for _, c := range cascades {
				if sizes, _, err := c.Bind(s); err == nil {
					if err := checkMemory(c, sizes, maxMemory); err != nil {
						return err
					}
				}
			}
			rows, err := analyze.Run(cascades, s, seed)
			if err != nil {
				return err
			}
			if output == "json" {
				b, err := json.MarshalIndent(rows, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "shape %s, seed %d\n\n", shape, seed)
				if err := analyze.WriteTable(cmd.OutOrStdout(), rows); err != nil {
					return err
				}
			}
			if bad := analyze.Disagreements(rows); len(bad) > 0 {
				return fmt.Errorf("%s (tolerance %g relative)", strings.Join(bad, "; "), analyze.Tolerance)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&shape, "shape", defaultAnalyzeShape, "rank sizes; each cascade uses those it declares")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of the generated inputs")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	addMemoryFlag(cmd, &maxMemory)
	root.AddCommand(cmd)
}
