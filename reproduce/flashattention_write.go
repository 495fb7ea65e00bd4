package reproduce

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// GPUErrors summarises the relative errors of the rows with a published
// value.
type GPUErrors struct {
	Rows         int
	Mean, Max    float64 // of |relative error|
	WorstRow     string
	FittedRows   int
	HeldOut      int     // rows not fitted on
	HeldOutMean  float64 // mean |relative error| over them
	HeldOutWorst float64
}

// Errors is the comparison with the published rows (every row, and the
// rows the constants were not fitted on).
func (o *GPUOutput) Errors() GPUErrors {
	var e GPUErrors
	var sum, held float64
	for _, r := range o.Results {
		if r.Err != nil || math.IsNaN(r.Published) {
			continue
		}
		a := math.Abs(r.RelErr())
		e.Rows++
		sum += a
		if a > e.Max {
			e.Max, e.WorstRow = a, describeRow(r.Row)
		}
		if r.Fitted {
			e.FittedRows++
			continue
		}
		e.HeldOut++
		held += a
		e.HeldOutWorst = math.Max(e.HeldOutWorst, a)
	}
	if e.Rows > 0 {
		e.Mean = sum / float64(e.Rows)
	}
	if e.HeldOut > 0 {
		e.HeldOutMean = held / float64(e.HeldOut)
	}
	return e
}

func describeRow(r GPURow) string {
	c := ""
	if r.Causal {
		c = " causal"
	}
	return fmt.Sprintf("%s on %s, headdim %d, seqlen %d%s", r.Kernel, r.GPU, r.Headdim, r.Seqlen, c)
}

// Failed lists the rows that could not be predicted, with why.
func (o *GPUOutput) Failed() []string {
	var out []string
	for _, r := range o.Results {
		if r.Err != nil {
			out = append(out, describeRow(r.Row)+": "+r.Err.Error())
		}
	}
	return out
}

// Files renders the reproduction: the CSV of predicted against published
// TFLOP/s, one SVG figure per GPU, and summary.md, by name, in order.
func (o *GPUOutput) Files() (map[string][]byte, []string, error) {
	files := map[string][]byte{}
	var order []string
	add := func(name string, b []byte) {
		files[name] = b
		order = append(order, name)
	}
	name := o.Experiment.Name
	add(name+".csv", o.csv())
	for _, g := range o.gpus() {
		b, err := o.figure(g)
		if err != nil {
			return nil, nil, err
		}
		add(name+"-"+g+".svg", b)
	}
	add("summary.md", o.summary())
	return files, order, nil
}

func (o *GPUOutput) csv() []byte {
	head := []string{"kernel", "gpu", "dtype", "headdim", "causal", "seqlen", "batch", "heads", "tflops", "published", "rel_error", "fitted",
		"bound_by", "peak_fraction", "ctas_per_sm", "waves", "util_tensor", "util_sfu", "util_fma", "util_smem", "util_l2", "util_hbm", "shared_bytes_per_cta"}
	var rows [][]any
	for _, r := range o.Results {
		w := r.Row
		if r.Err != nil {
			continue
		}
		rep := r.Report
		pub, rel := "", ""
		if !math.IsNaN(r.Published) {
			pub, rel = fmt.Sprintf("%g", r.Published), fmt.Sprintf("%.4f", r.RelErr())
		}
		u := rep.Utilization
		rows = append(rows, []any{w.Kernel, w.GPU, w.Dtype, w.Headdim, w.Causal, w.Seqlen, w.Batch, w.Heads, rep.TFLOPS, pub, rel, r.Fitted,
			rep.BoundBy, rep.PeakFraction, rep.Occupancy.CTAsPerSM, rep.Grid.Waves, u["tensor"], u["sfu"], u["fma"], u["smem"], u["l2"], u["hbm"], rep.Occupancy.SharedBytes})
	}
	return csvText(head, rows)
}

func (o *GPUOutput) gpus() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range o.Results {
		if !seen[r.Row.GPU] {
			seen[r.Row.GPU] = true
			out = append(out, r.Row.GPU)
		}
	}
	return out
}

// figure is one GPU's published and predicted TFLOP/s over sequence
// length, a line per (kernel, head dimension).
func (o *GPUOutput) figure(g string) ([]byte, error) {
	var rows [][]any
	for _, pass := range []string{"predicted", "published"} {
		for _, r := range o.Results {
			if r.Row.GPU != g || r.Err != nil || r.Row.Causal {
				continue
			}
			label := fmt.Sprintf("%s hd%d %s", r.Row.Kernel, r.Row.Headdim, pass)
			v := r.Report.TFLOPS
			if pass == "published" {
				if math.IsNaN(r.Published) {
					continue
				}
				v = r.Published
			}
			rows = append(rows, []any{label, r.Row.Seqlen, v})
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i][0].(string) < rows[j][0].(string) })
	return lineFigure(fmt.Sprintf("%s: forward attention throughput, %s (published vs predicted)", g, o.Experiment.Dtype), "sequence length", "TFLOP/s", rows)
}

func (o *GPUOutput) summary() []byte {
	x := o.Experiment
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", x.Name)
	fmt.Fprintf(&b, "Cascade %s through the GPU mappings (%s), %s, batch = %d / seqlen, heads = %d / headdim; TFLOP/s in the published convention (4·seqlen²·headdim·heads·batch, causal halved).\n\n", x.Cascade, runNames(x), x.Dtype, x.Tokens, x.Hidden)
	e := o.Errors()
	if o.RefDir == "" {
		b.WriteString("No published tables were read (give --compare DIR): predictions only.\n\n")
	} else {
		fmt.Fprintf(&b, "Against the published tables in %s: %d rows, mean |error| %.2f%%, worst %.2f%% (%s).\n", o.RefDir, e.Rows, 100*e.Mean, 100*e.Max, e.WorstRow)
		fmt.Fprintf(&b, "Constants fitted on %d of them (marked fitted in the CSV; docs/gpu.md); on the other %d: mean %.2f%%, worst %.2f%%.\n", e.FittedRows, e.HeldOut, 100*e.HeldOutMean, 100*e.HeldOutWorst)
		verdict := "met"
		if e.Mean > x.MaxMean || e.Max > x.MaxAny {
			verdict = "NOT met"
		}
		fmt.Fprintf(&b, "Targets (mean ≤ %.0f%%, none over %.0f%%): %s.\n\n", 100*x.MaxMean, 100*x.MaxAny, verdict)
	}
	b.WriteString("| kernel | gpu | headdim | seqlen | predicted | published | error | bound by | CTAs/SM | waves |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range o.Results {
		if r.Err != nil {
			continue
		}
		pub, rel := "", ""
		if !math.IsNaN(r.Published) {
			pub, rel = fmt.Sprintf("%g", r.Published), fmt.Sprintf("%+.1f%%", 100*r.RelErr())
			if r.Fitted {
				rel += " (fitted)"
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %.1f | %s | %s | %s | %d | %.3g |\n", r.Row.Kernel, r.Row.GPU, r.Row.Headdim, r.Row.Seqlen, r.Report.TFLOPS, pub, rel, r.Report.BoundBy, r.Report.Occupancy.CTAsPerSM, r.Report.Grid.Waves)
	}
	if f := o.Failed(); len(f) > 0 {
		b.WriteString("\nNot predicted:\n\n")
		for _, s := range f {
			b.WriteString("- " + s + "\n")
		}
	}
	return []byte(b.String())
}

func runNames(x *GPUExperiment) string {
	var s []string
	for _, r := range x.Runs {
		s = append(s, r.Mapping+" on "+r.GPU)
	}
	return strings.Join(s, ", ")
}

// WriteGPU writes the reproduction's files into dir, all or nothing.
func WriteGPU(dir string, o *GPUOutput) error {
	files, order, err := o.Files()
	if err != nil {
		return err
	}
	return WriteSequenceParallel(dir, &SPOutput{Files: files, Order: order})
}
