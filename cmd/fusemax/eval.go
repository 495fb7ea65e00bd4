package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/einsum/interp"
	"github.com/fusemax/fusemax/lower/llvm"
	"github.com/fusemax/fusemax/tensor"
	"github.com/spf13/cobra"
)

func addEval(root *cobra.Command) {
	var cascade, shape, dtype, out, backend, maxMemory string
	var seed uint64
	var inputFiles []string
	var lf llvmFlags
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
once the whole evaluation has succeeded. Before anything is allocated, every
tensor is sized at --shape and the total checked against --max-memory
(default: the machine's available memory).

With --backend llvm the cascade is compiled instead (fusemax emit-llvm, then
opt -O3, llc -O3 and gcc; LLVM 14 must be installed) and run on the CPU; it
writes the same files. --storage bf16 rounds stored tensors to bfloat16 while
accumulating in the compute type, and --count-accesses prints the element
reads and writes of every tensor.`,
		Example: `  fusemax eval attention_1pass --shape E=64,F=64,M=1024,P=1024,M0=256 --seed 1 --out /tmp/av
  fusemax eval my.einsum --shape M=8,P=8,E=4 --input Q=q.npy --input K=k.npy --dtype f32 --out out
  fusemax eval attention_1pass --shape E=64,F=64,M=4096,M0=64,P=4096 --backend llvm --dtype f32 --out /tmp/av`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("--out DIR is required")
			}
			dt, err := tensor.ParseDType(dtype)
			if err != nil {
				return usagef("--dtype: %v", err)
			}
			if backend != "interp" && backend != "llvm" {
				return usagef("--backend must be interp or llvm, not %q", backend)
			}
			if backend == "interp" && (lf.storage != "native" || lf.count || lf.threads != 1 || lf.tile != "" || lf.noTile || lf.mapping != "" || lf.arch != "" || len(lf.sets) > 0) {
				return usagef("--storage, --count-accesses, --threads, --tile, --no-tile, --mapping, --arch and --set need --backend llvm")
			}
			lf.dtype = dtype
			llvmOpts, err := lf.options()
			if err != nil {
				return err
			}
			c, err := loadCascade(args[0], cascade)
			if err != nil {
				return err
			}
			sizes, err := lf.bind(c, shape, cmd.ErrOrStderr(), &llvmOpts)
			if err != nil {
				return err
			}
			check := checkMemory
			if backend == "llvm" {
				check = func(c *einsum.Cascade, sizes map[string]int64, maxMemory string) error {
					return checkLLVMMemory(c, sizes, llvmOpts, maxMemory)
				}
			}
			if err := check(c, sizes, maxMemory); err != nil {
				return err
			}
			var names []string
			for _, t := range c.Inputs {
				names = append(names, t.Name)
			}
			for _, t := range c.Outputs {
				names = append(names, t.Name)
			}
			var counts *llvm.Result
			if backend == "llvm" {
				if counts, err = evalLLVM(cmd.Context(), c, sizes, seed, inputFiles, llvmOpts, out, names); err != nil {
					return err
				}
				if counts.Threads < llvmOpts.Threads {
					fmt.Fprintf(cmd.ErrOrStderr(), "note: --threads %d runs on one worker: %s\n", llvmOpts.Threads, counts.SingleThreadWhy)
				}
			} else {
				inputs, err := evalInputs(c, sizes, seed, inputFiles)
				if err != nil {
					return err
				}
				all, err := interp.Run(c, sizes, inputs, interp.Options{DType: dt})
				if err != nil {
					return err
				}
				if err := writeDir(out, names, all, dt); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s to %s (%s, %s, %s)\n", strings.Join(names, ", "), out, dt, backend, einsum.FormatShape(sizes))
			if lf.count {
				writeCounts(cmd.OutOrStdout(), c, counts)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cascade, "cascade", "", "the cascade to run when the file holds several")
	f.StringVar(&shape, "shape", "", "rank sizes, e.g. E=64,F=64,M=1024,P=1024,M0=256 (K and M suffixes allowed)")
	f.Uint64Var(&seed, "seed", 1, "seed of the generated inputs")
	f.StringArrayVar(&inputFiles, "input", nil, "NAME=FILE.npy: read input NAME from a file (repeatable)")
	f.StringVar(&dtype, "dtype", "f64", "arithmetic and output precision: f64 or f32")
	f.StringVar(&backend, "backend", "interp", "interp (the reference interpreter) or llvm (compiled, run on the CPU)")
	f.StringVar(&lf.storage, "storage", "native", "llvm: stored-tensor rounding, native or bf16")
	f.BoolVar(&lf.count, "count-accesses", false, "llvm: count and print element reads and writes per tensor")
	f.StringVar(&lf.tile, "tile", "", "llvm: tile of the rank hoisted around an iterate block (or a cascade without one), e.g. P=128")
	f.BoolVar(&lf.noTile, "no-tile", false, "llvm: hoist no rank around iterate blocks or a whole cascade")
	lf.registerMapping(cmd, "llvm: ")
	lf.registerThreads(cmd, "llvm: ")
	f.StringVar(&out, "out", "", "directory to write NAME.npy files into")
	addMemoryFlag(cmd, &maxMemory)
	root.AddCommand(cmd)
}

func writeCounts(w io.Writer, c *einsum.Cascade, r *llvm.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TENSOR\tREADS\tWRITES\tTILE-READS\tTILE-WRITES")
	for _, t := range c.Tensors {
		if a, ok := r.Counts[t.Name]; ok {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", t.Name, a.Reads, a.Writes, a.TileReads, a.TileWrites)
		}
	}
	tw.Flush()
}

// evalLLVM runs c through the LLVM backend with its tensors streamed from
// the input files (or the seeded generator) to the driver and from the
// driver to the staged .npy files, so that no tensor is held in memory; the
// files are moved into out once everything succeeded.
func evalLLVM(ctx context.Context, c *einsum.Cascade, sizes map[string]int64, seed uint64, files []string, opts llvm.Options, out string, names []string) (*llvm.Result, error) {
	given, err := inputFlags(c, files)
	if err != nil {
		return nil, err
	}
	streams := map[string]tensor.Values{}
	for _, t := range c.Inputs {
		want := t.Shape(sizes)
		if path, ok := given[t.Name]; ok {
			if _, streams[t.Name], err = tensor.NPYValues(path, shapeCheck(t, want)); err != nil {
				return nil, err
			}
		} else {
			streams[t.Name] = tensor.RandomValues(seed, t.Name, tensor.UniformDist, tensor.NumElems(want))
		}
	}
	stage, err := tensor.NewStage(out)
	if err != nil {
		return nil, err
	}
	defer stage.Remove()
	res, err := llvm.ExecValues(ctx, c, sizes, streams, func(t *einsum.Tensor, v tensor.Values) error {
		w, err := tensor.CreateNPY(stage.Path(t.Name), t.Shape(sizes), opts.DType)
		if err != nil {
			return err
		}
		if err := v(w.Put); err != nil {
			w.Close()
			return err
		}
		return w.Close()
	}, opts)
	if err != nil {
		return nil, err
	}
	return res, critical(func() error { return stage.Commit(names) })
}

// checkLLVMMemory is checkMemory for the compiled kernel, which streams its
// inputs and outputs and holds each once, in the compute type, next to its
// intermediates (rings and tiles, Module.WorkBytes), not every tensor whole
// as the interpreter does.
func checkLLVMMemory(c *einsum.Cascade, sizes map[string]int64, opts llvm.Options, maxMemory string) error {
	budget, err := memoryBudget(maxMemory)
	if err != nil {
		return err
	}
	m, err := llvm.Generate(c, sizes, opts)
	if err != nil {
		return err
	}
	elem := int64(4)
	if opts.DType == tensor.F64 {
		elem = 8
	}
	f := interp.Footprint{Tensors: []interp.TensorBytes{{Name: "intermediates", Bytes: m.WorkBytes}}, Total: m.WorkBytes}
	for _, t := range m.Params {
		n := int64(tensor.NumElems(t.Shape(sizes)))
		f.Tensors = append(f.Tensors, interp.TensorBytes{Name: t.Name, Elems: n, Bytes: n * elem})
		f.Total += n * elem
	}
	sort.SliceStable(f.Tensors, func(i, j int) bool { return f.Tensors[i].Bytes > f.Tensors[j].Bytes })
	return f.Check(c.Name, budget)
}

// inputFlags checks --input NAME=FILE flags against c's inputs and maps
// each name to its file.
func inputFlags(c *einsum.Cascade, files []string) (map[string]string, error) {
	given := map[string]string{}
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
		if _, dup := given[name]; dup {
			return nil, usagef("--input %s is given twice", name)
		}
		given[name] = path
	}
	return given, nil
}

// shapeCheck refuses a file whose header declares another shape than
// input t has at this --shape, before its data is read.
func shapeCheck(t *einsum.Tensor, want []int) func(tensor.NPYInfo) error {
	return func(h tensor.NPYInfo) error {
		if fmt.Sprint(h.Shape) != fmt.Sprint(want) {
			return fmt.Errorf("shape %v, but %s is declared at %s with shape %v at this --shape", h.Shape, t.Name, t.Pos, want)
		}
		return nil
	}
}

// evalInputs loads the inputs given as files, checking each file's header
// against the tensor's declaration before reading its data, and draws only
// the others from the seeded generator.
func evalInputs(c *einsum.Cascade, sizes map[string]int64, seed uint64, files []string) (map[string]*tensor.Dense, error) {
	given, err := inputFlags(c, files)
	if err != nil {
		return nil, err
	}
	inputs := map[string]*tensor.Dense{}
	for _, t := range c.Inputs {
		want := t.Shape(sizes)
		if path, ok := given[t.Name]; ok {
			if inputs[t.Name], err = tensor.LoadNPYChecked(path, shapeCheck(t, want)); err != nil {
				return nil, err
			}
		} else {
			inputs[t.Name] = tensor.Random(seed, t.Name, tensor.UniformDist, want...)
		}
	}
	return inputs, nil
}
