package main

import (
	"bytes"
	"slices"
	"strings"

	"github.com/fusemax/fusemax/review"
	"github.com/spf13/cobra"
)

func addCompare(root *cobra.Command) {
	var d designFlags
	var baseline, title string
	var out, html string
	cmd := &cobra.Command{
		Use:   "compare (REVIEW.yaml | KERNEL... --arch A,B | --config C,...) [--workload M,... --seq LENGTHS | --shape ...]",
		Short: "Put designs side by side: latency, speedup, energy, utilization, buffers, traffic, area; tables and an HTML report",
		Long: `compare evaluates several designs, each a (cascade, arch, mapping) with --set
overrides, on several shapes, and prints one table per shape: passes, latency,
speedup over the baseline, energy and its ratio to the baseline's, per-unit
utilization, the bounding unit, on-chip buffer peak, off-chip traffic, area.

The designs come from a review file (YAML; see docs/compare.md) or from flags:
every KERNEL on every --arch, and every --config (shipped: ` + strings.Join(review.Configs(), ", ") + `).
A design without a mapping gets one derived at each shape, as simulate does
without --mapping (the notes say so and what its search chose); where none
fits, the shipped mappings written for its kernel stand in (least
energy×delay; --mapping shipped asks for that). A GPU spec runs through the
GPU model with fa2, fa3 and standard tried (least latency; no energy or area).

--seq takes a list or range: 1K,64K,1M or 1K..1M*4. The baseline is the first
design unless --baseline names another. -o csv gives one row per design and
shape; --html writes a self-contained page (no network) with the tables and
SVG charts. The same inputs give byte-identical output.`,
		Example: `  fusemax compare attention_3pass attention_1pass --arch fusemax-cloud,flat-cloud --workload BERT --seq 1K,64K,1M
  fusemax compare --config fusemax-micro24/unfused,fusemax-micro24/flat,fusemax-micro24/binding --workload BERT --seq 1K..1M*4 --html review.html
  fusemax compare docs/reviews/fusemax-micro24.yaml -o markdown
  fusemax compare docs/reviews/fusemax-vs-gpus.yaml --html fusemax-vs-gpus.html`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(review.Formats, out) {
				return usagef("-o must be one of %s, not %q", strings.Join(review.Formats, ", "), out)
			}
			f := d.flags(args)
			f.Baseline, f.Title = baseline, title
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
	d.register(cmd, "override a spec value in every design: arch.PATH=VALUE or mapping.PATH=VALUE (repeatable)",
		"an explicit shape, e.g. B=1,H=32,E=128,F=128,M=8192,P=8192 (repeatable; with --seq and no --workload, M = P = each length)")
	fl := cmd.Flags()
	fl.StringVar(&baseline, "baseline", "", "the label of the design the others are measured against (default: the first)")
	fl.StringVar(&title, "title", "", "the review's title")
	fl.StringVarP(&out, "output", "o", "table", "output format: table, markdown, csv or json")
	fl.StringVar(&html, "html", "", "also write a self-contained HTML report with charts to this file")
	root.AddCommand(cmd)
}

// compareReview reads a review file, or builds the review from flags.
func compareReview(cmd *cobra.Command, args []string, f review.Flags) (*review.Review, error) {
	file, err := reviewFile(cmd, args, "set", "baseline", "title")
	if err != nil {
		return nil, err
	}
	if file != "" {
		return review.LoadReview(file)
	}
	r, err := review.FromFlags(f)
	if err != nil {
		return nil, usageError{err}
	}
	return r, nil
}
