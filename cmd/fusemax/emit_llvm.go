package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/lower"
	"github.com/fusemax/fusemax/lower/llvm"
	"github.com/fusemax/fusemax/specs"
	"github.com/fusemax/fusemax/tensor"
)

// llvmFlags are the code-generation flags shared by emit-llvm and eval.
type llvmFlags struct {
	dtype, storage, tile, mapping, arch string
	sets                                []string
	count, noTile                       bool
	threads                             int
}

func (f *llvmFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.dtype, "dtype", "f32", "compute type: f32 or f64")
	fl.StringVar(&f.storage, "storage", "native", "stored-tensor rounding: native (the compute type) or bf16")
	fl.BoolVar(&f.count, "count-accesses", false, "instrument the code to count element reads and writes per tensor")
	fl.StringVar(&f.tile, "tile", "", "tile sizes of the rank hoisted around an iterate block (or a cascade without one), e.g. P=128 (P=0 disables)")
	fl.BoolVar(&f.noTile, "no-tile", false, "do not hoist any rank around iterate blocks or a whole cascade")
	f.registerMapping(cmd, "")
	f.registerThreads(cmd, "")
}

// registerThreads adds --threads, with prefix before its description.
func (f *llvmFlags) registerThreads(cmd *cobra.Command, prefix string) {
	cmd.Flags().IntVar(&f.threads, "threads", 1, prefix+"workers that split the tiles of the hoisted rank (eval runs them as processes sharing the buffers; results identical to one)")
}

// registerMapping adds --mapping, --arch and --set, with prefix before
// each description.
func (f *llvmFlags) registerMapping(cmd *cobra.Command, prefix string) {
	fl := cmd.Flags()
	fl.StringVar(&f.mapping, "mapping", "", prefix+"mapping spec whose tiling and loop order the code follows (built-in name or YAML file)")
	fl.StringVar(&f.arch, "arch", "", prefix+"architecture the mapping's sizes refer to (default: the one a shipped config pairs with the mapping)")
	fl.StringArrayVar(&f.sets, "set", nil, prefix+"override a spec value, arch.PATH=VALUE or mapping.PATH=VALUE (repeatable)")
}

// maxThreads bounds --threads: each worker is a process with its own
// intermediates.
const maxThreads = 1024

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
	if f.tile != "" && f.noTile {
		return o, usagef("--tile and --no-tile contradict each other; give one of them")
	}
	if f.mapping != "" && (f.tile != "" || f.noTile) {
		return o, usagef("--mapping sets the tiling; give either it or --tile/--no-tile")
	}
	if f.mapping == "" && (f.arch != "" || len(f.sets) > 0) {
		return o, usagef("--arch and --set describe the machine of a --mapping; give --mapping too")
	}
	if f.threads < 1 || f.threads > maxThreads {
		return o, usagef("--threads %d: give 1 to %d", f.threads, maxThreads)
	}
	o = llvm.Options{DType: dt, Storage: st, CountAccesses: f.count, NoTile: f.noTile, Threads: f.threads}
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

// bind parses --shape and binds it to c. With --mapping it lowers c onto
// the architecture under the mapping, as simulate does, and takes from it
// the sizes the mapping fixes (M0 = the 2D array's rows) and its tiling
// (opts.MapTile), so that the generated code runs the simulated schedule.
func (f *llvmFlags) bind(c *einsum.Cascade, shape string, stderr io.Writer, opts *llvm.Options) (map[string]int64, error) {
	if f.mapping == "" {
		return bindShape(c, shape, stderr)
	}
	s, err := einsum.ParseShape(shape)
	if err != nil {
		return nil, usagef("--shape: %v", err)
	}
	archSets, mapSets, err := splitSets(f.sets)
	if err != nil {
		return nil, err
	}
	m, err := lower.LoadMapping(f.mapping, s, mapSets)
	if err != nil {
		return nil, err
	}
	archRef := f.arch
	if archRef == "" {
		if archRef = pairedArch(f.mapping); archRef == "" {
			return nil, usagef("--mapping %s: name the architecture its sizes refer to with --arch (one of %s)", f.mapping, strings.Join(specs.Names("arch"), ", "))
		}
	}
	a, err := arch.Load(archRef, archSets)
	if err != nil {
		return nil, err
	}
	for _, r := range m.Instances {
		if n, ok := s[r]; ok && n != 1 {
			return nil, fmt.Errorf("--mapping %s runs %s=%d independent copies of cascade %s; the LLVM backend runs one: give %s=1", m.Name, r, n, c.Name, r)
		}
	}
	k, err := lower.CountAccesses(c, a, m, s)
	if err != nil {
		// A size the mapping sets that the shape does not fit is named by
		// the lowering, at its line.
		return nil, fmt.Errorf("--mapping %s on %s: %w", m.Name, a.Name, err)
	}
	sizes, _, err := c.Bind(k.Sizes)
	if err != nil {
		return nil, err
	}
	var unused []string
	for _, r := range slices.Sorted(maps.Keys(s)) {
		if c.Rank(r) == nil && !slices.Contains(m.Instances, r) {
			unused = append(unused, r)
		}
	}
	if len(unused) > 0 {
		fmt.Fprintf(stderr, "note: cascade %s does not use %s; ignored\n", c.Name, strings.Join(unused, ", "))
	}
	opts.MapTile = k.Tile
	// Generating now puts the mapping's name on what the code cannot follow.
	if _, err := llvm.Generate(c, sizes, llvm.Options{MapTile: k.Tile}); err != nil {
		return nil, fmt.Errorf("--mapping %s: %w", m.Name, err)
	}
	return sizes, nil
}

// splitSets sorts --set values by the spec they override, without the
// prefix: arch.PATH=VALUE and mapping.PATH=VALUE.
func splitSets(sets []string) (archSets, mapSets []string, err error) {
	for _, x := range sets {
		if v, ok := strings.CutPrefix(x, "arch."); ok {
			archSets = append(archSets, v)
		} else if v, ok := strings.CutPrefix(x, "mapping."); ok {
			mapSets = append(mapSets, v)
		} else {
			return nil, nil, usagef("--set %s: say which spec, arch.PATH=VALUE or mapping.PATH=VALUE", x)
		}
	}
	return archSets, mapSets, nil
}

// pairedArch is the architecture of the first shipped config that uses
// mapping ref, or "".
func pairedArch(ref string) string {
	for _, name := range specs.Names("configs") {
		if c, err := lower.LoadConfig(name); err == nil && c.Mapping == ref {
			return c.Arch
		}
	}
	return ""
}

func addEmitLLVM(root *cobra.Command) {
	var cascade, shape, out string
	var verify bool
	var lf llvmFlags
	cmd := &cobra.Command{
		Use:   "emit-llvm FILE|KERNEL --shape ... [--cascade NAME] [--dtype f32|f64] [--storage bf16] [--count-accesses] [--tile P=128 | --mapping SPEC [--arch SPEC] [--set ...]] [-o out.ll]",
		Short: "Lower a cascade at a shape to LLVM IR: one function over its input and output buffers",
		Long: `emit-llvm writes the LLVM IR (LLVM 14, typed pointers) of one cascade at one
shape: a function fusemax_NAME taking pointers to the inputs and outputs in
declaration order (plus an i64* of per-tensor read and write counts with
--count-accesses; with --threads N above 1, for each partly defined output
an i8* mask the N workers share (one byte per element), then the worker's
number and an i64* tile counter the workers share, zero at the start, and
the functions fusemax_NAME_init and fusemax_NAME_check to call once before
and after the workers). Iterate blocks are loops, filters
guards, reductions start from their identity. See docs/llvm.md. eval
--backend llvm compiles and runs the same code.

With --mapping the code follows the mapping's tiling at this shape, on the
architecture --arch (by default the one a shipped config pairs with the
mapping; --set overrides spec values as in simulate): the sizes it fixes
(fusemax-binding: M0 = the 2D array's rows) and its groups (P in tiles of
P1 x columns) as the outermost loop around the iterate block.`,
		Example: `  fusemax emit-llvm attention_1pass --shape E=64,F=64,M=4096,M0=64,P=4096 -o attn.ll
  fusemax emit-llvm attention_1pass --shape E=64,F=64,M=4096,P=4096 --mapping fusemax-binding -o attn.ll
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
			sizes, err := lf.bind(c, shape, cmd.ErrOrStderr(), &opts)
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
			if err := writeOutput(out, []byte(m.String())); err != nil {
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
	root.AddCommand(cmd)
}
