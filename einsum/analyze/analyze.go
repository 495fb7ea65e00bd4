package analyze

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/einsum/interp"
	"github.com/fusemax/fusemax/einsum/passes"
	"github.com/fusemax/fusemax/tensor"
)

// Row is the result for one cascade.
type Row struct {
	Cascade  string `json:"cascade"`
	Rank     string `json:"rank"`
	Passes   int    `json:"passes"`
	Retained string `json:"retained"` // fibers kept on chip between passes, e.g. "QK (M×P), SN (M×P)"
	// Levels gives, for a split rank, the passes over each part and what
	// each re-reads: "M1: 2 (LSE (M1×P) 1→2); M0: 2 (QK (M0×P per m1) 1→2)".
	Levels string `json:"levels,omitempty"`
	// Function is what the cascade's comment says it computes
	// ("Computes: softmax attention"); outputs are compared only between
	// cascades that compute the same function from the same inputs.
	Function string `json:"function,omitempty"`
	Shape    string `json:"shape"`
	// Agreement lists, per output, the cascade it was compared with and the
	// largest absolute and relative difference.
	Agreement []Agreement `json:"agreement"`
	// Note says why a cascade was not evaluated (the shape lacks a size it
	// needs); its pass analysis is still reported.
	Note string `json:"note,omitempty"`
}

// Agreement compares one output with the same output of a reference cascade.
type Agreement struct {
	Output    string  `json:"output"`
	Reference string  `json:"reference"` // "" when this cascade is the first to produce the output
	MaxAbs    float64 `json:"max_abs"`
	MaxRel    float64 `json:"max_rel"` // MaxAbs relative to the reference's largest magnitude
	// Agrees is MaxRel <= Tolerance with the same defined (non-NaN) points;
	// true for the reference itself.
	Agrees bool `json:"agrees"`
}

// Tolerance is the largest normwise relative difference two float64
// evaluations of the same function may show and still agree: the shipped
// attention cascades differ by about 1e-16 (rounding in a different order);
// a wrong cascade by a factor (2x apart is a relative difference of 0.5 or 1).
const Tolerance = 1e-9

// Disagreements lists the outputs that differ from their reference.
func Disagreements(rows []Row) []string {
	var out []string
	for _, r := range rows {
		for _, a := range r.Agreement {
			if !a.Agrees {
				out = append(out, fmt.Sprintf("%s: output %s differs from %s's (max |Δ| %.3g, relative %.3g)", r.Cascade, a.Output, a.Reference, a.MaxAbs, a.MaxRel))
			}
		}
	}
	return out
}

// Run analyses and evaluates each cascade at shape (sizes a cascade does not
// use are ignored) on inputs drawn from seed. Because each seeded input
// depends only on the seed and its name, cascades that share input names see
// the same tensors, and an output that several of them produce is compared
// with the first cascade that produced it.
func Run(cascades []*einsum.Cascade, shape map[string]int64, seed uint64) ([]Row, error) {
	type ref struct {
		cascade string
		t       *tensor.Dense
	}
	first := map[string]ref{}
	var rows []Row
	for _, c := range cascades {
		rep, err := passes.Analyze(c, "")
		if err != nil {
			return nil, err
		}
		row := Row{Cascade: c.Name, Rank: rep.Rank, Passes: rep.Passes, Shape: einsum.FormatShape(used(c, shape))}
		var kept []string
		for _, r := range rep.Retained {
			kept = append(kept, r.Tensor+" ("+r.Size+")")
		}
		row.Retained = strings.Join(kept, ", ")
		var levels []string
		for _, l := range rep.Levels {
			levels = append(levels, fmt.Sprintf("%s: %d (%s)", l.Rank, l.Passes, passes.RetainedList(l.Retained)))
		}
		row.Levels = strings.Join(levels, "; ")
		row.Function = Function(c)
		sizes, _, err := c.Bind(shape)
		if err != nil {
			row.Note = "not evaluated: " + err.Error()
			rows = append(rows, row)
			continue
		}
		inputs, err := interp.RandomInputs(c, sizes, seed)
		if err != nil {
			return nil, err
		}
		all, err := interp.Run(c, sizes, inputs, interp.Options{DType: tensor.F64})
		if err != nil {
			return nil, err
		}
		for _, o := range c.Outputs {
			got := all[o.Name]
			// A cascade that says what it computes is compared with the
			// first that says the same; one that does not, with the first
			// producing the same output from the same inputs.
			plain := o.Name + fmt.Sprint(got.Shape) + " of " + inputSignature(c, all)
			key := plain
			if row.Function != "" {
				key = row.Function + ": " + plain
			}
			if _, seen := first[plain]; !seen {
				first[plain] = ref{c.Name, got}
			}
			r, seen := first[key]
			if !seen || r.cascade == c.Name {
				first[key] = ref{c.Name, got}
				row.Agreement = append(row.Agreement, Agreement{Output: o.Name, Agrees: true})
				continue
			}
			abs, rel := maxDiff(got, r.t)
			row.Agreement = append(row.Agreement, Agreement{Output: o.Name, Reference: r.cascade, MaxAbs: abs, MaxRel: rel,
				Agrees: rel <= Tolerance || abs == 0})
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// inputSignature names a cascade's inputs and their shapes: only cascades
// computing from the same inputs compute comparable outputs (a merge step
// that outputs AV from partial results is not attention).
func inputSignature(c *einsum.Cascade, all map[string]*tensor.Dense) string {
	var s []string
	for _, t := range c.Inputs {
		s = append(s, t.Name+fmt.Sprint(all[t.Name].Shape))
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}

// used keeps the sizes a cascade declares (directly or as split parts).
func used(c *einsum.Cascade, shape map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for name, v := range shape {
		if c.Rank(name) != nil {
			out[name] = v
		}
	}
	return out
}

// maxDiff is normwise: an element near zero does not inflate the relative
// difference the way elementwise relative error would.
// Points where both are NaN (undefined in both) or the same infinity are
// equal; a NaN on one side only makes both differences NaN, which no
// tolerance admits.
func maxDiff(a, b *tensor.Dense) (abs, rel float64) {
	var scale float64
	for i := range a.Data {
		x, y := a.Data[i], b.Data[i]
		switch {
		case x == y || math.IsNaN(x) && math.IsNaN(y):
		case math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0):
			return math.NaN(), math.NaN()
		default:
			abs = math.Max(abs, math.Abs(x-y))
		}
		if !math.IsNaN(y) && !math.IsInf(y, 0) {
			scale = math.Max(scale, math.Abs(y))
		}
	}
	if scale > 0 {
		rel = abs / scale
	} else if abs > 0 {
		rel = math.Inf(1)
	}
	return abs, rel
}

// WriteTable prints the rows as a plain table.
func WriteTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASCADE\tPASSES\tKEPT ON CHIP BETWEEN PASSES\tPER LEVEL OF THE SPLIT\tOUTPUT\tCOMPARED WITH\tMAX |Δ|\tMAX REL\tVERDICT")
	for _, r := range rows {
		kept, levels := orDash(r.Retained), orDash(r.Levels)
		if r.Note != "" {
			fmt.Fprintf(tw, "%s\t%d over %s\t%s\t%s\t%s\t\t\t\t\n", r.Cascade, r.Passes, r.Rank, kept, levels, r.Note)
			continue
		}
		for i, a := range r.Agreement {
			name, passes := r.Cascade, fmt.Sprintf("%d over %s", r.Passes, r.Rank)
			if i > 0 {
				name, passes, kept, levels = "", "", "", ""
			}
			if a.Reference == "" {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t(reference)\t\t\t\n", name, passes, kept, levels, a.Output)
				continue
			}
			verdict := "agree"
			if !a.Agrees {
				verdict = "DIFFER"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.1e\t%.1e\t%s\n", name, passes, kept, levels, a.Output, a.Reference, a.MaxAbs, a.MaxRel, verdict)
		}
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Function is the text after "Computes:" in a cascade's leading comment,
// "" when it has none.
func Function(c *einsum.Cascade) string {
	for _, line := range strings.Split(c.Comment, "\n") {
		if f, ok := strings.CutPrefix(strings.TrimSpace(line), "Computes:"); ok {
			return strings.TrimSpace(f)
		}
	}
	return ""
}
