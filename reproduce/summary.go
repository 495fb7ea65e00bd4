package reproduce

import (
	"bytes"
	"fmt"
	"math"
	"strings"
)

// Headline is the paper's headline comparison (MODEL.md §11): per
// (workload, seq) pair, the baseline's latency over the proposal's and the
// proposal's energy over the baseline's, averaged arithmetically.
type Headline struct {
	AttnSpeedup, AttnEnergy float64 // means over pairs
	E2ESpeedup, E2EEnergy   float64 // NaN without end-to-end tables
	Pairs                   int
	MinSpeedup, MaxSpeedup  float64
}

// Headline computes the headline numbers from tables (Output.Tables, or
// Output.Alt for the other energy profile). ok is false when a needed
// table is missing.
func (x *Experiment) Headline(tables map[string]*Table) (h Headline, ok bool) {
	base, prop := x.Config(x.HeadlineSpec.Baseline), x.Config(x.HeadlineSpec.Proposal)
	tb, tp := tables[base.CSV], tables[prop.CSV]
	if tb == nil || tp == nil {
		return h, false
	}
	var eb, ep *Table
	if pb, pp := x.Platform(base.End2End), x.Platform(prop.End2End); pb != nil && pp != nil {
		eb, ep = tables[pb.CSV], tables[pp.CSV]
	}
	h.E2ESpeedup, h.E2EEnergy = math.NaN(), math.NaN()
	h.MinSpeedup, h.MaxSpeedup = math.Inf(1), math.Inf(-1)
	var s, e, s2, e2 float64
	for _, w := range x.Workloads {
		for _, q := range x.Seqs {
			lb, ok1 := tb.Get("latency", w.Name, q.Label)
			lp, ok2 := tp.Get("latency", w.Name, q.Label)
			nb, ok3 := tb.Get("energy", w.Name, q.Label)
			np, ok4 := tp.Get("energy", w.Name, q.Label)
			if !(ok1 && ok2 && ok3 && ok4) {
				return h, false
			}
			s += lb / lp
			e += np / nb
			h.MinSpeedup, h.MaxSpeedup = math.Min(h.MinSpeedup, lb/lp), math.Max(h.MaxSpeedup, lb/lp)
			h.Pairs++
			if eb != nil && ep != nil {
				xb, _ := eb.Get("latency", w.Name, q.Label)
				xp, _ := ep.Get("latency", w.Name, q.Label)
				yb, _ := eb.Get("energy", w.Name, q.Label)
				yp, _ := ep.Get("energy", w.Name, q.Label)
				s2 += (lb + xb) / (lp + xp)
				e2 += (np + yp) / (nb + yb)
			}
		}
	}
	n := float64(h.Pairs)
	h.AttnSpeedup, h.AttnEnergy = s/n, e/n
	if eb != nil && ep != nil {
		h.E2ESpeedup, h.E2EEnergy = s2/n, e2/n
	}
	return h, true
}

// Summary writes summary.md: the headline numbers under both energy
// profiles, what failed, and with a comparison the worst relative error
// per file and column.
func Summary(out *Output, cmp []ColumnError, cmpErrs []error, refDir string) []byte {
	x := out.Experiment
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Reproduction of %s\n\n", x.Name)
	fmt.Fprintf(&b, "Energy profile of the CSVs: `%s`. %d distinct design points evaluated.\n\n", out.Profile, out.Points)
	base, prop := x.Config(x.HeadlineSpec.Baseline), x.Config(x.HeadlineSpec.Proposal)
	fmt.Fprintf(&b, "## Headline: %s vs %s\n\n", prop.Label, base.Label)
	fmt.Fprintf(&b, "Arithmetic means over the %d×%d (workload, sequence length) pairs of the per-pair ratios: speedup = %s latency / %s latency, energy = %s energy / %s energy; end to end adds each platform's linear layers to attention first.\n\n",
		len(x.Workloads), len(x.Seqs), base.Label, prop.Label, prop.Label, base.Label)
	h, ok := x.Headline(out.Tables)
	if !ok {
		fmt.Fprintf(&b, "Not available: %s or %s did not complete.\n\n", base.CSV, prop.CSV)
	} else {
		b.WriteString("| energy profile | attention speedup | attention energy | end-to-end speedup | end-to-end energy |\n|---|---|---|---|---|\n")
		row := func(name string, h Headline) {
			fmt.Fprintf(&b, "| `%s` | %.2f× | %.3f | %s | %s |\n", name, h.AttnSpeedup, h.AttnEnergy, fmtX(h.E2ESpeedup, "%.2f×"), fmtX(h.E2EEnergy, "%.3f"))
		}
		row(out.Profile, h)
		if out.AltProfile != "" {
			if ha, ok := x.Headline(out.Alt); ok {
				row(out.AltProfile, ha)
				fmt.Fprintf(&b, "\nUnder `%s` the attention energy ratio moves by %+.3f (%+.1f%%) and the end-to-end one by %s: ",
					out.AltProfile, ha.AttnEnergy-h.AttnEnergy, 100*(ha.AttnEnergy/h.AttnEnergy-1), fmtX(ha.E2EEnergy-h.E2EEnergy, "%+.3f"))
				b.WriteString("the artifact charges each register file one PE's accesses (MODEL.md §9.1, §13) and, on large problems, the global-buffer reads Timeloop adds when a partition size wraps 64 bits (§9.6); the physical profile charges every PE's accesses and no wrapped reads.\n")
			}
		}
		fmt.Fprintf(&b, "\nAttention speedup ranges over %.2f–%.2f×.", h.MinSpeedup, h.MaxSpeedup)
		if p := x.HeadlineSpec.Paper; p != nil {
			fmt.Fprintf(&b, " The paper reports %s / %s for attention and %s / %s end to end (%s).", fmtX(p.AttnSpeedup, "%.3g×"), fmtX(p.AttnEnergy, "%.3g"), fmtX(p.E2ESpeedup, "%.3g×"), fmtX(p.E2EEnergy, "%.3g"), p.Source)
		}
		if refDir != "" {
			if ref, err := ReadOutput(x, refDir); err == nil {
				if hr, ok := x.Headline(ref.Tables); ok {
					fmt.Fprintf(&b, " The reference CSVs in `%s` give %.2f× / %.3f and %s / %s.", refDir, hr.AttnSpeedup, hr.AttnEnergy, fmtX(hr.E2ESpeedup, "%.2f×"), fmtX(hr.E2EEnergy, "%.3f"))
				}
			}
		}
		b.WriteString("\n\n")
		for _, n := range out.Experiment.HeadlineSpec.Notes {
			b.WriteString(strings.TrimSpace(n) + "\n\n")
		}
	}
	if len(out.Failed) > 0 {
		b.WriteString("## Not reproduced\n\n")
		for _, f := range out.Files {
			if msg, ok := out.Failed[f]; ok {
				fmt.Fprintf(&b, "- `%s`: %s\n", f, oneLine(msg))
			}
		}
		b.WriteString("\n")
	}
	if refDir != "" {
		fmt.Fprintf(&b, "## Worst relative error against `%s`\n\n", refDir)
		b.WriteString("| file | column | worst rel. error | at | got | reference |\n|---|---|---|---|---|---|\n")
		for _, c := range cmp {
			fmt.Fprintf(&b, "| %s | %s | %.3g | %s | %.6g | %.6g |\n", c.File, c.Column, c.Rel, strings.Join(c.Keys, " "), c.Got, c.Want)
		}
		for _, e := range cmpErrs {
			fmt.Fprintf(&b, "\n- %s", oneLine(e.Error()))
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

func fmtX(v float64, f string) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf(f, v)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
