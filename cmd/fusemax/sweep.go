package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/fusemax/fusemax/review"
	"github.com/spf13/cobra"
)

// sweepOutput is where a sweep's results go: the CSV to -o or stdout,
// the Pareto front printed (to stdout, or to stderr when the CSV is on
// stdout) and plotted (--html).
type sweepOutput struct {
	out, html string
	pareto    []string
}

func (o *sweepOutput) flags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&o.out, "output", "o", "", "write the CSV to this file instead of stdout")
	fl.StringSliceVar(&o.pareto, "pareto", nil, "print the Pareto front of these metrics (all minimized), e.g. latency,energy")
	fl.StringVar(&o.html, "html", "", "write a self-contained HTML page with the Pareto front plotted (needs --pareto)")
}

func (o *sweepOutput) write(cmd *cobra.Command, t *review.Table, title string) error {
	if o.html != "" && len(o.pareto) == 0 {
		return usagef("--html plots the Pareto front: name its metrics with --pareto")
	}
	var cols, front []int
	if len(o.pareto) > 0 {
		var err error
		if cols, err = t.ParetoColumns(o.pareto); err != nil {
			return usageError{err}
		}
		front = t.Pareto(cols)
	}
	var buf bytes.Buffer
	if err := t.WriteCSV(&buf); err != nil {
		return err
	}
	if o.html != "" {
		if err := writeOutput(o.html, t.SweepHTML(title, cols, front)); err != nil {
			return err
		}
	}
	front2 := cmd.OutOrStdout()
	if o.out == "" || o.out == "-" {
		if _, err := cmd.OutOrStdout().Write(buf.Bytes()); err != nil {
			return err
		}
		front2 = cmd.ErrOrStderr()
	} else if err := writeOutput(o.out, buf.Bytes()); err != nil {
		return err
	}
	if cols != nil {
		t.WritePareto(front2, cols, front)
	}
	return nil
}

func addSweep(root *cobra.Command) {
	var d designFlags
	var o sweepOutput
	var shard string
	var jobs int
	cmd := &cobra.Command{
		Use:   "sweep [REVIEW.yaml | KERNEL... --arch A,B | --config C,...] --set PATH=VALUES... (--workload M,... --seq LENGTHS | --shape ...)",
		Short: "Sweep designs over any --set path and shape: one CSV row per point, Pareto front, shards for clusters",
		Long: `sweep evaluates every design × every combination of the --set values × every
shape, and writes one CSV row per point with every metric compare reports
(utilization per unit, buffer peaks, energy per component, roofline work).

Values are lists or ranges: --set arch.arrays.2d.rows=64,128,256,
--set arch.memory.L3.capacity=8MiB..64MiB*2, --seq 1K..1M*4 (LO..HI*F is
geometric, LO..HI+S arithmetic). Designs and shapes are given as for compare:
a review file, KERNEL... with --arch, or --config. A point that cannot be
evaluated (it does not fit) keeps its row, with the reason in the error column.

--pareto latency,energy prints the points no other point beats in every named
metric (lower is better); --html plots them. --shard I/N evaluates only points
I, I+N, I+2N, ... so that N machines (a Slurm job array, a Kubernetes indexed
Job; see docs/sweeps.md) share the sweep; 'fusemax sweep merge' joins their CSVs
into exactly the file one machine writes. A progress bar with rate and ETA
is drawn on stderr when it is a terminal.`,
		Example: `  fusemax sweep --config fusemax-micro24/binding --set arch.arrays.2d.rows=64,128,256 --workload BERT --seq 1K..1M*4 --pareto latency,energy
  fusemax sweep attention_1pass --arch fusemax-cloud --mapping fusemax-binding --set arch.memory.L3.capacity=4MiB..64MiB*2 --shape B=1,H=32,E=128,F=128 --seq 4K..256K*4 -o sweep.csv
  fusemax sweep --config fusemax-micro24/binding --set arch.arrays.1d.length=64..1024*2 --workload BERT,XLM --seq 1K..1M*4 --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT -o shard-$SLURM_ARRAY_TASK_ID.csv`,
		RunE: func(cmd *cobra.Command, args []string) error {
			sh := review.Shard{I: 0, N: 1}
			if shard != "" {
				var err error
				if sh, err = review.ParseShard(shard); err != nil {
					return usageError{err}
				}
			}
			s, title, err := sweepOf(cmd, args, d.flags(args))
			if err != nil {
				return err
			}
			t, err := s.Run(review.NewEvaluator(), sh, review.Options{Workers: jobs, Progress: progressBar(cmd.ErrOrStderr())})
			if err != nil {
				return err
			}
			return o.write(cmd, t, title)
		},
	}
	d.register(cmd, "a swept spec value: arch.PATH=VALUES or mapping.PATH=VALUES, a list or range (repeatable: a grid)",
		"an explicit shape (repeatable; with --seq and no --workload, M = P = each length)")
	fl := cmd.Flags()
	fl.StringVar(&shard, "shard", "", "evaluate only shard I of N (I/N, 0 <= I < N): points I, I+N, ...")
	fl.IntVar(&jobs, "jobs", 0, "points evaluated in parallel (default: every core)")
	o.flags(cmd)
	cmd.AddCommand(sweepMergeCmd())
	root.AddCommand(cmd)
}

// sweepOf reads a review file's designs and shapes, or the flags'.
func sweepOf(cmd *cobra.Command, args []string, f review.Flags) (*review.Sweep, string, error) {
	file, err := reviewFile(cmd, args)
	if err != nil {
		return nil, "", err
	}
	if file != "" {
		r, err := review.LoadReview(file)
		if err != nil {
			return nil, "", err
		}
		s, err := review.SweepOf(r, f.Set)
		if err != nil {
			return nil, "", usageError{err}
		}
		return s, r.Title + ": sweep", nil
	}
	s, err := review.NewSweep(f)
	if err != nil {
		return nil, "", usageError{err}
	}
	return s, "Sweep", nil
}

func sweepMergeCmd() *cobra.Command {
	var o sweepOutput
	cmd := &cobra.Command{
		Use:   "merge SHARD.csv...",
		Short: "Join the CSVs of a sharded sweep into the CSV one machine writes",
		Long: `merge reads the CSVs that 'fusemax sweep --shard I/N' wrote and writes the one
CSV the unsharded sweep writes, byte for byte: the union of their columns, the
rows in point order. It fails if a point is missing (a shard was not given or
did not finish) or given twice, or if the shards come from different sweeps.`,
		Example: `  fusemax sweep merge shard-*.csv -o sweep.csv --pareto latency,energy`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ts []*review.Table
			for _, name := range args {
				t, err := readShard(cmd.InOrStdin(), name)
				if err != nil {
					return err
				}
				ts = append(ts, t)
			}
			t, err := review.Merge(args, ts)
			if err != nil {
				return err
			}
			return o.write(cmd, t, fmt.Sprintf("Sweep (%d shards merged)", len(args)))
		},
	}
	o.flags(cmd)
	return cmd
}

func readShard(stdin io.Reader, name string) (*review.Table, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	return review.ReadTable(name, r)
}
