package main

import (
	"os"
	"strings"

	"github.com/fusemax/fusemax/review"
	"github.com/spf13/cobra"
)

// designFlags are the flags compare and sweep share: the designs (KERNEL
// arguments with --arch, --config, --mapping, --set) and the shapes
// (--workload, --seq, --shape), with the energy profile.
type designFlags struct {
	f                         review.Flags
	configs, archs, workloads []string
}

// designFlagNames are the flags a review file replaces.
var designFlagNames = []string{"config", "arch", "mapping", "workload", "seq", "shape", "energy-profile"}

// register adds the shared flags to cmd; setHelp says what --set does in it.
func (d *designFlags) register(cmd *cobra.Command, setHelp, shapeHelp string) {
	fl := cmd.Flags()
	fl.StringSliceVar(&d.configs, "config", nil, "designs given as configurations, comma-separated")
	fl.StringSliceVar(&d.archs, "arch", nil, "architectures every KERNEL runs on, comma-separated")
	fl.StringVar(&d.f.Mapping, "mapping", "", "the mapping of every KERNEL design (default: derived, as simulate does; shipped: the best shipped mapping for the kernel)")
	fl.StringArrayVar(&d.f.Set, "set", nil, setHelp)
	fl.StringSliceVar(&d.workloads, "workload", nil, "built-in workloads, comma-separated: BERT, TrXL, T5, XLM")
	fl.StringVar(&d.f.Seq, "seq", "", "sequence lengths: a list or range, e.g. 1K,64K,1M or 1K..1M*4")
	fl.StringArrayVar(&d.f.Shapes, "shape", nil, shapeHelp)
	fl.StringVar(&d.f.Profile, "energy-profile", "", "accounting profile for latency and energy: physical (default), fusemax-micro24 or a profile file")
}

// flags is the review given on the command line, KERNEL arguments included.
func (d *designFlags) flags(kernels []string) review.Flags {
	f := d.f
	f.Kernels, f.Configs, f.Archs, f.Workloads = kernels, d.configs, d.archs, d.workloads
	return f
}

// reviewFile returns the review file named by args, if there is one; the
// flags that a review file replaces (designFlagNames and more) must then
// be absent.
func reviewFile(cmd *cobra.Command, args []string, more ...string) (string, error) {
	if len(args) != 1 || !(strings.HasSuffix(args[0], ".yaml") || strings.HasSuffix(args[0], ".yml")) {
		return "", nil
	}
	for _, name := range append(append([]string{}, designFlagNames...), more...) {
		if cmd.Flags().Changed(name) {
			return "", usagef("--%s: a review file names its designs and shapes; edit the file instead", name)
		}
	}
	if _, err := os.Stat(args[0]); err != nil {
		return "", usagef("review file %s: %v", args[0], err)
	}
	return args[0], nil
}
