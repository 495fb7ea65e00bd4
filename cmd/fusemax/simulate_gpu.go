package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/lower/gpu"
	"github.com/fusemax/fusemax/workload"
)

func isGPUMapping(ref string) bool { return gpu.IsMapping(ref) }

// simulateGPU is simulate for a GPU spec and a GPU mapping.
func simulateGPU(w io.Writer, c *einsum.Cascade, a *arch.Spec, mappingRef string, shape map[string]int64, mapSets []string, dtype, out string) error {
	switch {
	case a.GPU == nil:
		return fmt.Errorf("%s is not a GPU spec; %s (GPU mappings and --dtype need one of the GPU specs, e.g. h100-sxm5-80gb)", a.Name, describeGPUUse(mappingRef, dtype))
	case !gpu.IsMapping(mappingRef):
		return fmt.Errorf("%s is a GPU spec; mapping %s is not a GPU mapping (kind: gpu): use fa2, fa3 or standard", a.Name, mappingRef)
	}
	if dtype == "" {
		dtype = "fp16"
	}
	m, err := gpu.LoadMapping(mappingRef, mapSets)
	if err != nil {
		return err
	}
	rep, err := gpu.Simulate(c, a, m, shape, dtype)
	if err != nil {
		return err
	}
	return writeAs(w, out, rep, func(w io.Writer) { writeGPUTable(w, rep) }, func() ([]string, []string) { return gpuCSV(rep) })
}

func describeGPUUse(mappingRef, dtype string) string {
	if dtype != "" {
		return "--dtype " + dtype + " is given"
	}
	return "mapping " + mappingRef + " is a GPU mapping"
}

func writeGPUTable(w io.Writer, r *gpu.Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "kernel\t%s\n", r.Kernel)
	fmt.Fprintf(tw, "arch\t%s\n", r.Arch)
	fmt.Fprintf(tw, "mapping\t%s (%s)\n", r.Mapping, r.Dtype)
	fmt.Fprintf(tw, "shape\t%s\n", shapeLine(r.Shape))
	fused := r.Occupancy.CTAsPerSM > 0 // an unfused mapping launches kernels of its own tiles
	if fused {
		fmt.Fprintf(tw, "tile\t%d×%d, %d warps, %d consumer chains, %d stages\n", r.Tile.BlockM, r.Tile.BlockN, r.Tile.Warps, r.Tile.Consumers, r.Tile.Stages)
	}
	fmt.Fprintf(tw, "latency\t%.6g s (%.6g cycles)\n", r.LatencyS, r.Cycles)
	fmt.Fprintf(tw, "throughput\t%.4g TFLOP/s (%.1f%% of peak)\n", r.TFLOPS, 100*r.PeakFraction)
	fmt.Fprintf(tw, "bound by\t%s\n", r.BoundBy)
	fmt.Fprintf(tw, "utilization\t%s\n", shares(r.Utilization, "%s %.3f"))
	if fused {
		writeGPUOccupancy(tw, r)
	}
	fmt.Fprintf(tw, "HBM traffic\t%.6g B\n", r.HBMBytes)
	for _, n := range r.Notes {
		fmt.Fprintf(tw, "note\t%s\n", n)
	}
	tw.Flush()
}

func writeGPUOccupancy(tw io.Writer, r *gpu.Report) {
	o := r.Occupancy
	fmt.Fprintf(tw, "occupancy\t%d CTAs/SM (limited by %s), %d threads/CTA, ~%d registers/thread (limit %d)\n", o.CTAsPerSM, o.LimitedBy, o.ThreadsPerCTA, o.Registers, o.RegisterLimit)
	fmt.Fprintf(tw, "on chip per CTA\tshared %.1f KiB, registers %.1f KiB\n", o.SharedBytes/1024, o.RegisterBytes/1024)
	gr := r.Grid
	fmt.Fprintf(tw, "grid\t%d CTAs, %.3g waves (%d rounds on the busiest SM), %d SMs active\n", gr.CTAs, gr.Waves, gr.WavesCeil, gr.ActiveSMs)
	if gr.TilesSkipped+gr.TilesPartial > 0 {
		fmt.Fprintf(tw, "tiles\t%d full, %d partly masked, %d skipped\n", gr.TilesFull, gr.TilesPartial, gr.TilesSkipped)
	}
}

// gpuCSV is the GPU report as one CSV row and its header.
func gpuCSV(r *gpu.Report) (head, row []string) {
	head = []string{"kernel", "arch", "mapping", "dtype", "shape", "latency_s", "cycles", "tflops", "peak_fraction", "bound_by", "ctas_per_sm", "waves", "shared_bytes_per_cta", "hbm_bytes"}
	row = []string{r.Kernel, r.Arch, r.Mapping, r.Dtype, workload.FormatShape(r.Shape), g(r.LatencyS), g(r.Cycles), g(r.TFLOPS), g(r.PeakFraction), r.BoundBy,
		fmt.Sprint(r.Occupancy.CTAsPerSM), g(r.Grid.Waves), g(r.Occupancy.SharedBytes), g(r.HBMBytes)}
	for _, k := range sortedNames(r.Utilization) {
		head, row = append(head, "util_"+k), append(row, g(r.Utilization[k]))
	}
	return head, row
}
