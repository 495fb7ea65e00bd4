package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fusemax/fusemax/lower/llvm"
	"github.com/fusemax/fusemax/tensor"
)

// llvmFlags are the code-generation flags shared by emit-llvm and numerics.
type llvmFlags struct {
	dtype, storage, tile, mapping string
	count, noTile                 bool
}

func (f *llvmFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.dtype, "dtype", "f32", "compute type: f32 or f64")
	fl.StringVar(&f.storage, "storage", "native", "stored-tensor rounding: native (the compute type) or bf16")
	fl.BoolVar(&f.count, "count-accesses", false, "instrument the code to count element reads and writes per tensor")
	fl.StringVar(&f.tile, "tile", "", "tile sizes of the rank hoisted around an iterate block, e.g. P=128 (P=0 disables)")
	fl.BoolVar(&f.noTile, "no-tile", false, "do not hoist any rank around iterate blocks")
	fl.StringVar(&f.mapping, "mapping", "", "mapping spec to follow (not supported by the LLVM backend yet; use --tile)")
}

func (f *llvmFlags) options() (llvm.Options, error) {
	var o llvm.Options
	dt, err := tensor.ParseDType(f.dtype)
	if err != nil {
		return o, usagef("--dtype: %v", err)
	}
	st, err := llvm.ParseStorage(f.storage)
	if err != nil {
		return o, usagef("--storage: %v", err)
	}
	if f.mapping != "" {
		return o, usagef("--mapping: the LLVM backend does not follow mapping specs yet; give its query tile with --tile (e.g. --tile P=128)")
	}
	o = llvm.Options{DType: dt, Storage: st, CountAccesses: f.count, NoTile: f.noTile}
	if f.tile != "" {
		o.Tile = map[string]int64{}
		for _, kv := range strings.Split(f.tile, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			n, err := strconv.ParseInt(v, 10, 64)
			if !ok || err != nil || n < 0 || k == "" {
				return o, usagef("--tile: %q is not RANK=SIZE", kv)
			}
			o.Tile[k] = n
		}
	}
	return o, nil
}

func init() {
	var cascade, shape, out string
	var verify bool
	var lf llvmFlags
	cmd := &cobra.Command{
		Use:   "emit-llvm FILE|KERNEL --shape ... [--cascade NAME] [--dtype f32|f64] [--storage bf16] [--count-accesses] [--tile P=128] [-o out.ll]",
		Short: "Lower a cascade at a shape to LLVM IR: one function over its input and output buffers",
		Long: `emit-llvm writes the LLVM IR (LLVM 14, typed pointers) of one cascade at one
shape: a function fusemax_NAME taking pointers to the inputs and outputs in
declaration order (plus an i64* of per-tensor read and write counts with
--count-accesses). Iterate blocks are loops, filters guards, reductions start
from their identity. See docs/llvm.md. eval --backend llvm compiles and runs
the same code.`,
		Example: `  fusemax emit-llvm attention_1pass --shape E=64,F=64,M=4096,M0=64,P=4096 -o attn.ll
  opt-14 -O3 -mcpu=native attn.ll -S -o attn.opt.ll`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := lf.options()
			if err != nil {
				return err
			}
			c, err := loadCascade(args[0], cascade)
			if err != nil {
				return err
			}
			sizes, err := bindShape(c, shape, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			m, err := llvm.Generate(c, sizes, opts)
			if err != nil {
				return err
			}
			if verify {
				if err := llvm.Verify(context.Background(), m); err != nil {
					return err
				}
			}
			if out == "" || out == "-" {
				_, err := fmt.Fprint(cmd.OutOrStdout(), m.String())
				return err
			}
			if err := writeFileAtomic(out, []byte(m.String())); err != nil {
				return fmt.Errorf("-o %s: %w", out, err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cascade, "cascade", "", "the cascade to lower when the file holds several")
	f.StringVar(&shape, "shape", "", "rank sizes, e.g. E=64,F=64,M=4096,P=4096,M0=64")
	f.StringVarP(&out, "output", "o", "", "file to write the IR to (default: standard output)")
	f.BoolVar(&verify, "verify", false, "check the IR with opt -verify (needs LLVM 14)")
	lf.register(cmd)
	rootCmd.AddCommand(cmd)
}
