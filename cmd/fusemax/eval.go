package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/einsum/interp"
	"github.com/fusemax/fusemax/tensor"
	"github.com/spf13/cobra"
)

func init() {
	var cascade, shape, dtype, out, backend string
	var seed uint64
	var inputFiles []string
	cmd := &cobra.Command{
		Use:   "eval FILE|KERNEL --shape ... [--seed N | --input Q=q.npy ...] [--dtype f32|f64] --out DIR",
		Short: "Run a cascade on concrete tensors and write its inputs and outputs as .npy",
		Long: `eval executes a cascade on the reference interpreter (float64 or float32,
splits, filters and iteration included) and writes every input and output
tensor to DIR/NAME.npy, with dimensions in the order of the tensor's declared
index list, row-major.

Inputs not given with --input are drawn from a seeded generator (uniform in
[-1, 1)); the same seed gives the same tensors on every machine, and each
tensor's stream depends only on the seed and its name. Files are written only
once the whole evaluation has succeeded.`,
		Example: `  fusemax eval attention_1pass --shape E=64,F=64,M=1024,P=1024,M0=256 --seed 1 --out /tmp/av
  fusemax eval my.einsum --shape M=8,P=8,E=4 --input Q=q.npy --input K=k.npy --dtype f32 --out out`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("--out DIR is required")
			}
			dt, err := tensor.ParseDType(dtype)
			if err != nil {
				return usagef("--dtype: %v", err)
			}
			if backend != "interp" {
				return usagef("--backend must be interp (the LLVM backend is not built in yet), not %q", backend)
			}
			c, err := loadCascade(args[0], cascade)
			if err != nil {
				return err
			}
			sizes, err := bindShape(c, shape, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			inputs, err := evalInputs(c, sizes, seed, inputFiles)
			if err != nil {
				return err
			}
			all, err := interp.Run(c, sizes, inputs, interp.Options{DType: dt})
			if err != nil {
				return err
			}
			var names []string
			for _, t := range c.Inputs {
				names = append(names, t.Name)
			}
			for _, t := range c.Outputs {
				names = append(names, t.Name)
			}
			if err := tensor.WriteDir(out, names, all, dt); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s to %s (%s, %s)\n", strings.Join(names, ", "), out, dt, einsum.FormatShape(sizes))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cascade, "cascade", "", "the cascade to run when the file holds several")
	f.StringVar(&shape, "shape", "", "rank sizes, e.g. E=64,F=64,M=1024,P=1024,M0=256 (K and M suffixes allowed)")
	f.Uint64Var(&seed, "seed", 1, "seed of the generated inputs")
	f.StringArrayVar(&inputFiles, "input", nil, "NAME=FILE.npy: read input NAME from a file (repeatable)")
	f.StringVar(&dtype, "dtype", "f64", "arithmetic and output precision: f64 or f32")
	f.StringVar(&backend, "backend", "interp", "interp (the reference interpreter)")
	f.StringVar(&out, "out", "", "directory to write NAME.npy files into")
	rootCmd.AddCommand(cmd)
}

// evalInputs draws seeded inputs and replaces those given as files, checking
// each file's shape against the tensor's declaration.
func evalInputs(c *einsum.Cascade, sizes map[string]int64, seed uint64, files []string) (map[string]*tensor.Dense, error) {
	inputs, err := interp.RandomInputs(c, sizes, seed)
	if err != nil {
		return nil, err
	}
	given := map[string]bool{}
	for _, spec := range files {
		name, path, ok := strings.Cut(spec, "=")
		if !ok || name == "" || path == "" {
			return nil, usagef("--input %q is not NAME=FILE.npy", spec)
		}
		var decl *einsum.Tensor
		for _, t := range c.Inputs {
			if t.Name == name {
				decl = t
			}
		}
		if decl == nil {
			names := make([]string, len(c.Inputs))
			for i, t := range c.Inputs {
				names[i] = t.Name
			}
			sort.Strings(names)
			return nil, usagef("--input %s: cascade %s has no input %s (inputs: %s)", spec, c.Name, name, strings.Join(names, ", "))
		}
		if given[name] {
			return nil, usagef("--input %s is given twice", name)
		}
		given[name] = true
		t, err := tensor.LoadNPY(path)
		if err != nil {
			return nil, err
		}
		want := decl.Shape(sizes)
		if fmt.Sprint(t.Shape) != fmt.Sprint(want) {
			return nil, fmt.Errorf("%s: shape %v, but %s is declared at %s with shape %v at this --shape", path, t.Shape, name, decl.Pos, want)
		}
		inputs[name] = t
	}
	return inputs, nil
}
