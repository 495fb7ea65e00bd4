package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/lower"
	"github.com/fusemax/fusemax/lower/multi"
	"github.com/fusemax/fusemax/reproduce"
	"github.com/fusemax/fusemax/sim"
	"github.com/fusemax/fusemax/specs"
	"github.com/fusemax/fusemax/workload"
	"github.com/spf13/cobra"
)

func addSimulate(root *cobra.Command) {
	var config, archRef, mappingRef, cascade, shapeArg, model, seq, out, profile, system, dtype, objective, emitMapping string
	var sets, inputFiles, densities []string
	var pipeline, full, ideal, printSchedule bool
	cmd := &cobra.Command{
		Use:   "simulate [KERNEL|FILE] (--config NAME | --arch SPEC [--mapping SPEC]) (--workload MODEL --seq LEN | --shape ...)",
		Short: "Simulate a cascade on an architecture under a mapping: latency, traffic, energy, utilization",
		Long: `simulate lowers a cascade onto an architecture spec under a mapping/binding
spec and runs the resulting schedule on the cycle-level simulator.

A configuration (--config) names a (kernel, arch, mapping) triple; the shipped
ones are ` + strings.Join(specs.Names("configs"), ", ") + `.
Specs are built-in names (arch: ` + strings.Join(specs.Names("arch"), ", ") + `;
mapping: ` + strings.Join(specs.Names("mapping"), ", ") + `) or YAML files.

--set overrides any spec value: arch.PATH=VALUE or mapping.PATH=VALUE, e.g.
--set arch.arrays.2d.rows=128 --set arch.memory.L3.capacity=32MiB. A
configuration's own arch overrides (its set, then the accounting profile's
for it) apply first.

--energy-profile picks the accounting profile, for latency and energy alike
(specs/profiles/NAME.yaml or a YAML file of the same form): physical (the
hardware as its specs describe it: every PE's register-file accesses, every
operation at the spec's cycles and energy) or fusemax-micro24 (the FuseMax
artifact's, each quirk documented in its file with its MODEL.md section: one
PE's register-file accesses per array, the output reads Timeloop adds when a
partition size wraps 64 bits, the DRAM reads≠updates guard, +Architecture's
LM drain stall, +Cascade's serial sub→exp and uncharged exponentials). The
default is the profile of the shipped experiment that evaluates the --config
(fusemax-micro24 for the fusemax-micro24/ configs, as fusemax reproduce
uses), else physical.

Without --mapping (and --config) the mapping is derived: every Einsum bound
to a unit that can run or build its operations, by cost; group sizes and
what stays off chip searched (bounded, deterministic) for the least
--objective (edp, latency or energy). The output prints it; --emit-mapping
FILE saves it to edit and pass back with --mapping.

A GPU spec (a100-sxm4-80gb, h100-sxm5-80gb, h200-sxm-141gb) takes a GPU
mapping (fa2, fa3, standard) and reports TFLOP/s, the bounding unit,
occupancy and waves; see docs/gpu.md.

The workload is a built-in model at a sequence length (BERT, TrXL, T5, XLM;
M = P = LEN) or any shape; sizes the cascade does not name (B, H) count
independent instances. A workload's D and S size its linear layers: they are
left out unless the cascade names them.

A data-dependent filter (block-sparse attention's Sel[m1, p] > 0) skips
the tiles its selection leaves out: --input Sel=sel.npy counts them from the
tensor (its header checked against the shape first), --density Sel=0.25
from a declared share of selecting elements (each independently: a tile
reading n of them is skipped with probability (1-0.25)^n); a top-k
selection computed in the cascade has density k/n; otherwise the tiles are
costed dense, with a warning. The output says which (selection line, JSON
selections); see docs/simulator.md.

--system SPEC runs the cascade across the devices of a system spec (` +
			strings.Join(specs.Names("system"), ", ") + `) under a sharding
mapping (ring, striped, tree, ulysses), --ideal in the papers' accounting;
see docs/multidevice.md.`,
		Example: `  fusemax simulate --config fusemax-micro24/binding --workload BERT --seq 64K
  fusemax simulate attention_1pass --arch fusemax-cloud --mapping fusemax-binding --shape B=1,H=32,E=128,F=128,M=8192,P=8192 -o json
  fusemax simulate --config fusemax-micro24/flat --workload XLM --seq 16K --set arch.memory.L3.capacity=64MiB
  fusemax simulate attention_3pass --arch flat-cloud --shape B=1,H=16,E=64,F=64,M=4096,P=4096 --emit-mapping my.yaml
  fusemax simulate attention_1pass --arch h100-sxm5-80gb --mapping fa3 --shape B=4,H=16,E=128,F=128,M=8K,P=8K --dtype fp16 -o json
  fusemax simulate block_sparse_1pass --arch fusemax-cloud --shape B=1,H=1,E=64,F=64,M=16K,P=16K --input Sel=sel.npy`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out != "table" && out != "json" && out != "csv" {
				return usagef("-o must be table, json or csv, not %q", out)
			}
			kernel := ""
			if len(args) == 1 {
				kernel = args[0]
			}
			if profile == "" {
				profile = reproduce.ProfileFor(config)
			}
			if _, err := lower.LoadProfile(profile); err != nil {
				return usagef("--energy-profile: %v", err)
			}
			if system != "" && len(inputFiles)+len(densities) > 0 {
				return usagef("--input and --density cost a data-dependent mask on one accelerator; the --system model does not read them")
			}
			if system != "" { // multi-device: lower/multi (docs/multidevice.md)
				return simulateSystem(cmd, kernel, cascade, system, mappingRef, shapeArg, out, sets, ideal)
			} else if mappingRef != "" && multi.IsSharding(mappingRef) {
				return usagef("mapping %s shards ranks across devices: give the system with --system (one of %s)", mappingRef, strings.Join(specs.Names("system"), ", "))
			}
			if config != "" && (archRef != "" || mappingRef != "") {
				return usagef("--config names its own arch and mapping; give --config, or --arch and --mapping, not both (change a spec value with --set)")
			}
			var archSets []string
			if config != "" {
				conf, err := lower.LoadConfig(config)
				if err != nil {
					return err
				}
				if kernel == "" {
					kernel = conf.Kernel
				}
				if archRef == "" {
					archRef = conf.Arch
					archSets = conf.ArchSets(profile)
				}
				if mappingRef == "" {
					mappingRef = conf.Mapping
				}
			}
			if kernel == "" || archRef == "" {
				return usagef("name a kernel and --arch (and optionally --mapping), or a --config (one of %s)", strings.Join(specs.Names("configs"), ", "))
			}
			if objective != "" && !slices.Contains(lower.Objectives(), objective) {
				return usagef("--objective must be one of %s, not %q", strings.Join(lower.Objectives(), ", "), objective)
			}
			shape, err := simShape(shapeArg, model, seq)
			if err != nil {
				return err
			}
			moreArch, mapSets, err := splitSets(sets)
			if err != nil {
				return err
			}
			archSets = append(archSets, moreArch...)
			c, err := loadCascade(kernel, cascade)
			if err != nil {
				return err
			}
			if model != "" {
				shape = workload.ForCascade(shape, func(k string) bool { return c.Rank(k) != nil })
			}
			a, err := arch.Load(archRef, archSets)
			if err != nil {
				return err
			}
			if a.GPU != nil || isGPUMapping(mappingRef) || dtype != "" {
				if len(inputFiles)+len(densities) > 0 {
					return usagef("--input and --density cost a data-dependent mask on an accelerator spec; the GPU model (%s) does not read them", a.Name)
				}
				return simulateGPU(cmd.OutOrStdout(), c, a, mappingRef, shape, mapSets, dtype, out)
			}
			sels, err := selections(c, inputFiles, densities)
			if err != nil {
				return err
			}
			var m *lower.Mapping
			if mappingRef == "" {
				if len(mapSets) > 0 {
					return usagef("--set mapping.PATH needs a --mapping; without one the mapping is derived (save it with --emit-mapping and edit it)")
				}
				m, _, err = lower.DeriveMapping(c, a, shape)
			} else {
				m, err = lower.LoadMapping(mappingRef, shape, mapSets)
			}
			if err != nil {
				return err
			}
			rep, err := lower.Simulate(c, a, m, shape, lower.Options{PipelineLatency: pipeline, EnergyProfile: profile, Objective: objective, PrintSchedule: printSchedule, NoteUnusedShape: shapeArg != "", Selections: sels}, sim.Options{NoFastForward: full})
			if err != nil {
				return err
			}
			if printSchedule {
				fmt.Fprint(cmd.OutOrStdout(), rep.Program)
				return nil
			}
			if emitMapping != "" {
				if !rep.MappingDerived {
					return usagef("--emit-mapping writes a derived mapping; this run used --mapping %s", mappingRef)
				}
				if err := writeOutput(emitMapping, []byte(rep.MappingSpec)); err != nil {
					return err
				}
			}
			if err := finiteReport(rep); err != nil {
				return err
			}
			for _, wn := range rep.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", wn)
			}
			return writeAs(cmd.OutOrStdout(), out, rep, func(w io.Writer) { writeReportTable(w, rep) }, func() ([]string, []string) { return reportCSV(rep) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&config, "config", "", "a (kernel, arch, mapping) configuration: built-in name or YAML file")
	f.StringVar(&archRef, "arch", "", "architecture spec: built-in name or YAML file")
	f.StringVar(&mappingRef, "mapping", "", "mapping/binding spec: built-in name or YAML file")
	f.StringVar(&cascade, "cascade", "", "the cascade to use when the file holds several")
	f.StringVar(&model, "workload", "", "built-in workload: BERT, TrXL, T5 or XLM")
	f.StringVar(&seq, "seq", "", "sequence length for --workload (M = P), e.g. 4096, 64K, 1M")
	f.StringVar(&shapeArg, "shape", "", "rank sizes instead of --workload, e.g. B=1,H=32,E=128,F=128,M=8192,P=8192")
	f.StringArrayVar(&sets, "set", nil, "override a spec value: arch.PATH=VALUE or mapping.PATH=VALUE (repeatable)")
	f.BoolVar(&pipeline, "pipeline-latency", false, "charge 2D tile operations their systolic fill and drain")
	f.BoolVar(&full, "no-fast-forward", false, "simulate every loop iteration (slow; for checking the fast-forward; at most 2e7 operations)")
	f.StringVarP(&out, "output", "o", "table", "output format: table, json or csv")
	f.StringVar(&system, "system", "", "run on a multi-device system spec (built-in name or YAML) under a sharding --mapping (ring, striped, tree, ulysses)")
	f.BoolVar(&ideal, "ideal", false, "with --system: the papers' accounting (FLOPs at peak, no latency, no memory bound)")
	f.BoolVar(&printSchedule, "print-schedule", false, "print the lowered program (sizes, each Einsum's unit and loops per level, then the schedule's loops, tile operations and transfers) instead of the report")
	f.StringVar(&objective, "objective", "", "what a mapping search minimises: edp (default), latency or energy")
	f.StringVar(&emitMapping, "emit-mapping", "", "write the derived mapping (no --mapping given) to this file, to save and edit it")
	f.StringVar(&profile, "energy-profile", "", "accounting profile for latency and energy: physical, fusemax-micro24 (the FuseMax artifact's) or a profile file; default: the --config's experiment's, else physical")
	f.StringArrayVar(&inputFiles, "input", nil, "NAME=FILE.npy: the values of a tensor a data-dependent filter reads (block selection), to cost the tiles it skips (repeatable)")
	f.StringArrayVar(&densities, "density", nil, "NAME=D: without its values, the share D in [0, 1] of NAME's elements that select; tiles skipped as for independent blocks (repeatable)")
	f.StringVar(&dtype, "dtype", "", "GPU specs only: element type fp16 (default), bf16, fp8 or tf32")
	root.AddCommand(cmd)
}

func simShape(shape, model, seq string) (map[string]int64, error) {
	switch {
	case shape != "" && (model != "" || seq != ""):
		return nil, usagef("give either --shape or --workload with --seq, not both")
	case shape != "":
		s, err := workload.ParseShape(shape)
		if err != nil {
			return nil, usagef("--shape: %v", err)
		}
		return s, nil
	case model == "" || seq == "":
		return nil, usagef("give the workload: --workload MODEL --seq LEN, or --shape NAME=SIZE,...")
	}
	m, err := workload.Lookup(model)
	if err != nil {
		return nil, usagef("--workload: %v", err)
	}
	n, err := workload.ParseLength(seq)
	if err != nil {
		return nil, usagef("--seq: %v", err)
	}
	return m.Shape(n), nil
}

func writeReportTable(w io.Writer, r *lower.Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "kernel\t%s\n", r.Kernel)
	fmt.Fprintf(tw, "arch\t%s\n", r.Arch)
	mp := r.Mapping
	if r.Variant != "" {
		mp += " (variant " + r.Variant + ")"
	}
	if len(r.Searched) > 0 {
		mp += " (search chose " + strings.Join(r.Searched, ", ") + ")"
	}
	if r.MappingDerived {
		mp += " (derived: no --mapping given; printed below)"
	}
	fmt.Fprintf(tw, "mapping\t%s\n", mp)
	fmt.Fprintf(tw, "shape\t%s\n", shapeLine(r.Shape))
	var der []string
	for _, k := range sortedNames(r.Derived) {
		der = append(der, fmt.Sprintf("%s=%d", k, r.Derived[k]))
	}
	der = append(der, fmt.Sprintf("groups=%d", r.Groups))
	fmt.Fprintf(tw, "derived\t%s\n", strings.Join(der, " "))
	fmt.Fprintf(tw, "latency\t%.6g s (%.6g cycles)\n", r.LatencyS, r.Cycles)
	if r.TrafficSkippedBytes > 0 {
		fmt.Fprintf(tw, "traffic\t%.6g B (masked tiles leave %.6g B untransferred)\n", r.TrafficBytes, r.TrafficSkippedBytes)
	} else {
		fmt.Fprintf(tw, "traffic\t%.6g B\n", r.TrafficBytes)
	}
	fmt.Fprintf(tw, "energy\t%.6g pJ (%.4g J)\n", r.EnergyPJ, r.EnergyPJ*1e-12)
	fmt.Fprintf(tw, "area\t%.6g mm2\n", r.AreaUM2*1e-6)
	fmt.Fprintf(tw, "utilization\t%s\n", shares(r.Utilization, "%s %.4f"))
	for _, u := range r.Selections {
		fmt.Fprintf(tw, "selection\t%s\n", selectionLine(u))
	}
	for _, k := range sortedNames(r.BufferPeakBytes) {
		fmt.Fprintf(tw, "buffer %s\tpeak %.4g MiB, state %.4g MiB\n", k, r.BufferPeakBytes[k]/(1<<20), r.BufferNeedBytes[k]/(1<<20))
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	masked := false
	for _, e := range r.Einsums {
		masked = masked || e.Tiles > 0
	}
	head := "einsum\tunit\tactivity\tops\tcycles/op\tPE share\tspatial\t"
	if masked {
		head += "useful\ttiles skipped\t"
	}
	fmt.Fprintln(tw, head)
	for _, e := range r.Einsums {
		fmt.Fprintf(tw, "%s\t%s\t%.4f\t%d\t%.6g\t%.3f\t%s\t", e.Name, e.Unit, r.EinsumActivity[e.Name], e.Instances, e.Cycles, e.PEFrac, e.Spatial)
		if masked {
			fmt.Fprintf(tw, "%.4f\t%d of %d\t", e.Useful, e.TilesSkipped, e.Tiles)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if r.MappingDerived {
		fmt.Fprintf(w, "\nderived mapping (--emit-mapping FILE saves it):\n%s", indent(r.MappingSpec, "  "))
	}
}

func indent(s, by string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = by + l
		}
	}
	return strings.Join(lines, "")
}

// reportCSV is the report as one CSV row and its header.
func reportCSV(r *lower.Report) (head, row []string) {
	head = []string{"kernel", "arch", "mapping", "shape", "latency_s", "cycles", "traffic_bytes", "energy_pj", "area_um2"}
	row = []string{r.Kernel, r.Arch, r.Mapping, workload.FormatShape(r.Shape), g(r.LatencyS), g(r.Cycles), g(r.TrafficBytes), g(r.EnergyPJ), g(r.AreaUM2)}
	for _, k := range sortedNames(r.Utilization) {
		head, row = append(head, "util_"+k), append(row, g(r.Utilization[k]))
	}
	for _, e := range r.Einsums {
		head, row = append(head, e.Name), append(row, g(r.EinsumActivity[e.Name]))
	}
	for _, k := range sortedNames(r.BufferPeakBytes) {
		head, row = append(head, "peak_"+k+"_bytes"), append(row, g(r.BufferPeakBytes[k]))
	}
	for _, k := range sortedNames(r.Derived) {
		head, row = append(head, k), append(row, fmt.Sprint(r.Derived[k]))
	}
	return head, row
}

func g(v float64) string { return fmt.Sprintf("%.10g", v) }

func sortedNames[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
