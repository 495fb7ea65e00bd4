package main

import (
	"bytes"
	"os"
	"slices"
	"strings"

	"github.com/fusemax/fusemax/review"
	"github.com/spf13/cobra"
)

func init() {
	var f review.Flags
	var out, html string
	var configs, archs, workloads []string
	cmd := &cobra.Command{
		Use:   "compare (REVIEW.yaml | KERNEL... --arch A,B | --config C,...) [--workload M,... --seq LENGTHS | --shape ...]",
		Short: "Put designs side by side: latency, speedup, energy, utilization, buffers, traffic, area; tables and an HTML report",
		Long: `compare evaluates several designs, each a (cascade, arch, mapping) with --set
overrides, on several shapes, and prints one table per shape: passes, latency,
speedup over the baseline, energy and its ratio to the baseline's, per-unit
utilization, the bounding unit, on-chip buffer peak, off-chip traffic, area.

The designs come from a review file (YAML; see docs/compare.md) or from flags:
every KERNEL on every --arch, and every --config (shipped: ` + strings.Join(review.Configs(), ", ") + `).
A design without a mapping tries every shipped mapping written for its kernel
and keeps the least energy×delay (the table's notes say which won).

--seq takes a list or range: 1K,64K,1M or 1K..1M*4. The baseline is the first
design unless --baseline names another. -o csv gives one row per design and
shape; --html writes a self-contained page (no network) with the tables and
SVG charts. The same inputs give byte-identical output.`,
		Example: `  fusemax compare attention_3pass attention_1pass --arch fusemax-cloud,flat-cloud --workload BERT --seq 1K,64K,1M
  fusemax compare --config fusemax-micro24/unfused,fusemax-micro24/flat,fusemax-micro24/binding --workload BERT --seq 1K..1M*4 --html review.html
  fusemax compare specs/reviews/fusemax-micro24.yaml -o markdown`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(review.Formats, out) {
				return usagef("-o must be one of %s, not %q", strings.Join(review.Formats, ", "), out)
			}
			f.Configs, f.Archs, f.Workloads = configs, archs, workloads
			r, err := compareReview(cmd, args, f)
			if err != nil {
				return err
			}
			cmp, err := review.Compare(r, review.NewEvaluator(), review.Options{Progress: progressBar(cmd.ErrOrStderr())})
			if err != nil {
				return err
			}
			if html != "" {
				page, err := cmp.HTML()
				if err != nil {
					return err
				}
				if err := writeOutput(html, page); err != nil {
					return err
				}
			}
			var buf bytes.Buffer
			if err := cmp.Write(&buf, out); err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(buf.Bytes())
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&configs, "config", nil, "designs given as configurations, comma-separated")
	fl.StringSliceVar(&archs, "arch", nil, "architectures every KERNEL runs on, comma-separated")
	fl.StringVar(&f.Mapping, "mapping", "", "the mapping of every KERNEL design (default: the best shipped mapping for the kernel)")
	fl.StringArrayVar(&f.Set, "set", nil, "override a spec value in every design: arch.PATH=VALUE or mapping.PATH=VALUE (repeatable)")
	fl.StringSliceVar(&workloads, "workload", nil, "built-in workloads, comma-separated: BERT, TrXL, T5, XLM")
	fl.StringVar(&f.Seq, "seq", "", "sequence lengths: a list or range, e.g. 1K,64K,1M or 1K..1M*4")
	fl.StringArrayVar(&f.Shapes, "shape", nil, "an explicit shape, e.g. B=1,H=32,E=128,F=128,M=8192,P=8192 (repeatable; with --seq and no --workload, M = P = each length)")
	fl.StringVar(&f.Baseline, "baseline", "", "the label of the design the others are measured against (default: the first)")
	fl.StringVar(&f.Profile, "energy-profile", "", "accounting profile for latency and energy: physical (default), fusemax-micro24 or a profile file")
	fl.StringVar(&f.Title, "title", "", "the review's title")
	fl.StringVarP(&out, "output", "o", "table", "output format: table, markdown, csv or json")
	fl.StringVar(&html, "html", "", "also write a self-contained HTML report with charts to this file")
	rootCmd.AddCommand(cmd)
}

// compareReview reads a review file, or builds the review from flags.
func compareReview(cmd *cobra.Command, args []string, f review.Flags) (*review.Review, error) {
	if len(args) == 1 && (strings.HasSuffix(args[0], ".yaml") || strings.HasSuffix(args[0], ".yml")) {
		for _, name := range []string{"config", "arch", "mapping", "set", "workload", "seq", "shape", "baseline", "energy-profile", "title"} {
			if cmd.Flags().Changed(name) {
				return nil, usagef("--%s: a review file names its designs and shapes; edit the file instead", name)
			}
		}
		if _, err := os.Stat(args[0]); err != nil {
			return nil, usagef("review file %s: %v", args[0], err)
		}
		return review.LoadReview(args[0])
	}
	f.Kernels = args
	r, err := review.FromFlags(f)
	if err != nil {
		return nil, usageError{err}
	}
	return r, nil
}
