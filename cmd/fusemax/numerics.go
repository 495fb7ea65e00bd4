package main

import (
	"context"
	"fmt"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/einsum/interp"
	"github.com/fusemax/fusemax/lower/llvm"
	"github.com/fusemax/fusemax/tensor"
)

// numericsRow is one cascade's deviation from the f64 interpreter in one
// storage mode.
type numericsRow struct {
	Kernel  string  `json:"kernel"`
	Storage string  `json:"storage"`
	Output  string  `json:"output"`
	MaxAbs  float64 `json:"max_abs"`
	MeanAbs float64 `json:"mean_abs"`
}

func addNumerics(root *cobra.Command) {
	var shape, output, storages, maxMemory string
	var seed uint64
	cmd := &cobra.Command{
		Use:   "numerics FILE|KERNEL... [--shape ...] [--seed N] [--storage f32,bf16] [-o table|json]",
		Short: "Deviation of cascades compiled with the LLVM backend from the f64 interpreter, on the same inputs",
		Long: `numerics runs every cascade of each file (or built-in kernel) through the
LLVM backend (f32 arithmetic, with stored tensors in f32 and in bf16) and
reports, against the float64 reference interpreter, the largest and the
mean absolute deviation of every output. All cascades get the same seeded
inputs (an input's values depend only on the seed and its name), so a
review can compare, say, the 1-pass attention cascade's deviation with the
3-pass one's at bf16. Needs LLVM 14 and gcc.`,
		Example: `  fusemax numerics attention_1pass attention_2pass attention_3pass --shape E=64,F=64,M=1024,M0=64,P=128`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "table" && output != "json" {
				return usagef("-o must be table or json, not %q", output)
			}
			var modes []llvm.Storage
			var names []string
			for _, s := range splitList(storages) {
				m, err := llvm.ParseStorage(s)
				if err != nil {
					return usagef("--storage: %v", err)
				}
				modes = append(modes, m)
				names = append(names, map[llvm.Storage]string{llvm.StorageNative: "f32", llvm.StorageBF16: "bf16"}[m])
			}
			if len(modes) == 0 {
				return usagef("--storage lists no storage type")
			}
			if _, err := llvm.FindTools(); err != nil {
				return err
			}
			// Every cascade of every file is compared, as analyze does, so a
			// file holding several variants is one argument.
			var cascades []*einsum.Cascade
			for _, arg := range args {
				prog, _, err := loadProgram(arg)
				if err != nil {
					return err
				}
				cascades = append(cascades, prog.Cascades...)
			}
			var rows []numericsRow
			for _, c := range cascades {
				sizes, err := bindShape(c, shape, cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				if err := checkMemory(c, sizes, maxMemory); err != nil {
					return err
				}
				inputs, err := interp.RandomInputs(c, sizes, seed)
				if err != nil {
					return err
				}
				want, err := interp.Run(c, sizes, inputs, interp.Options{DType: tensor.F64})
				if err != nil {
					return err
				}
				for i, mode := range modes {
					r, err := llvm.Exec(context.Background(), c, sizes, inputs, llvm.Options{DType: tensor.F32, Storage: mode})
					if err != nil {
						return err
					}
					for _, o := range c.Outputs {
						mx, mean := absDeviation(r.Tensors[o.Name], want[o.Name])
						rows = append(rows, numericsRow{c.Name, names[i], o.Name, mx, mean})
					}
				}
			}
			w := cmd.OutOrStdout()
			if output == "json" {
				return writeJSON(w, map[string]any{"shape": einsum.FormatShape(mustParseShape(shape)), "seed": seed, "reference": "interp f64", "rows": rows})
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "cascade\tstorage\toutput\tmax |dev|\tmean |dev|")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%.3g\t%.3g\n", r.Kernel, r.Storage, r.Output, r.MaxAbs, r.MeanAbs)
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&shape, "shape", "E=64,F=64,M=1024,M0=64,P=128", "rank sizes shared by every cascade (unused ones are noted and ignored)")
	f.Uint64Var(&seed, "seed", 1, "seed of the inputs")
	f.StringVar(&storages, "storage", "f32,bf16", "comma-separated storage types to compare: f32 and/or bf16")
	f.StringVarP(&output, "output", "o", "table", "table or json")
	addMemoryFlag(cmd, &maxMemory)
	root.AddCommand(cmd)
}

// absDeviation is the largest and the mean |got - want| over the points
// both define; a point defined in only one counts as an infinite deviation.
func absDeviation(got, want *tensor.Dense) (mx, mean float64) {
	var n int
	for i, w := range want.Data {
		g := got.Data[i]
		if math.IsNaN(w) && math.IsNaN(g) {
			continue
		}
		d := math.Abs(g - w)
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		mx = math.Max(mx, d)
		mean += d
		n++
	}
	if n > 0 {
		mean /= float64(n)
	}
	return mx, mean
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func mustParseShape(s string) map[string]int64 {
	m, _ := einsum.ParseShape(s)
	return m
}
