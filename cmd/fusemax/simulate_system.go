package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/lower/multi"
	"github.com/fusemax/fusemax/workload"
	"github.com/spf13/cobra"
)

// simulateSystem is simulate --system: a cascade across the devices of a
// system under a sharding mapping.
func simulateSystem(cmd *cobra.Command, kernel, cascade, system, mappingRef, shapeArg, out string, sets []string, ideal bool) error {
	if out != "table" && out != "json" {
		return usagef("with --system, -o must be table or json, not %q", out)
	}
	if kernel == "" || mappingRef == "" || shapeArg == "" {
		return usagef("--system needs a kernel, a sharding --mapping (ring, striped, tree, ulysses) and --shape")
	}
	shape, err := workload.ParseShape(shapeArg)
	if err != nil {
		return usagef("--shape: %v", err)
	}
	var sysSets, mapSets []string
	for _, s := range sets {
		switch {
		case strings.HasPrefix(s, "system."):
			sysSets = append(sysSets, strings.TrimPrefix(s, "system."))
		case strings.HasPrefix(s, "mapping."):
			mapSets = append(mapSets, strings.TrimPrefix(s, "mapping."))
		default:
			return usagef("--set %q: with --system, give system.PATH=VALUE or mapping.PATH=VALUE", s)
		}
	}
	c, err := loadCascade(kernel, cascade)
	if err != nil {
		return err
	}
	sys, err := arch.LoadSystem(system, sysSets)
	if err != nil {
		return err
	}
	m, err := multi.LoadMapping(mappingRef, mapSets)
	if err != nil {
		return err
	}
	merge, err := kernels.Load("ring_merge") // a tree round's merge of partial results
	if err != nil {
		return err
	}
	rep, err := multi.Simulate(c, sys, m, shape, multi.Options{Ideal: ideal, Merge: merge.Cascades[0]})
	if err != nil {
		return err
	}
	return writeAs(cmd.OutOrStdout(), out, rep, func(w io.Writer) { writeSystemTable(w, rep) }, nil)
}

func writeSystemTable(w io.Writer, r *multi.Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "kernel\t%s\n", r.Kernel)
	fmt.Fprintf(tw, "system\t%s (%d devices, groups of %d)\n", r.System, r.Devices, r.Group)
	fmt.Fprintf(tw, "mapping\t%s (schedule %s, %s mode)\n", r.Mapping, r.Schedule, r.Mode)
	fmt.Fprintf(tw, "device model\t%s\n", r.DeviceModel)
	fmt.Fprintf(tw, "shape\t%s\n", shapeLine(r.Shape))
	fmt.Fprintf(tw, "latency\t%.6g s (without communication %.6g s; exposed communication %.6g s)\n", r.LatencyS, r.NoCommS, r.ExposedCommS)
	fmt.Fprintf(tw, "one device\t%.6g s (speedup %.4g)\n", r.SingleDeviceS, r.Speedup)
	fmt.Fprintf(tw, "communication\t%d steps, %.6g B on links\n", r.CommSteps, r.LinkBytes)
	fmt.Fprintf(tw, "link utilization\t%s\n", shares(r.LinkUtil, "%s %.4f"))
	fmt.Fprintf(tw, "compute imbalance\t%.4f (max / mean)\n", r.Imbalance)
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "device\tcompute s\tcomm s\tlive blocks\tmemory GiB\t")
	for _, d := range r.PerDevice {
		fmt.Fprintf(tw, "%d\t%.6g\t%.6g\t%.4g\t%.4g\t\n", d.Device, d.ComputeS, d.CommunicationS, d.LiveWork, d.MemoryBytes/(1<<30))
	}
	tw.Flush()
	for _, n := range r.Notes {
		fmt.Fprintln(w, "\nnote:", n)
	}
	if !r.MemoryFits {
		fmt.Fprintln(w, "\nwarning: a device's share exceeds its memory")
	}
}
