package reproduce

import (
	"strings"
	"testing"
)

// TestEmptyTablesFail: a CSV the experiment gives no rows (no Pareto PE
// dims) or whose rows would sum nothing (no end2end layers) is a failure,
// not an empty or all-zero file reported as reproduced (issue 10 item 8).
func TestEmptyTablesFail(t *testing.T) {
	x, err := LoadExperiment("fusemax-micro24")
	if err != nil {
		t.Fatal(err)
	}
	x.Pareto.PEDims = nil
	x.Layers = nil
	ev := EvaluatorFunc(func(p Point) (*Result, error) {
		return &Result{LatencyS: 1, MemoryS: 0.5, Utilization: map[string]float64{"2d": 0.5, "1d": 1}, Activity: map[string]float64{"QK": 0.1, "AV": 0.1, "LM": 0, "SLN": 0, "SLD": 0, "SLNV": 0.1}}, nil
	})
	out, err := Run(x, ev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{"pareto.csv": "no rows", "end2end-flat.csv": "no end2end layers"} {
		if msg := out.Failed[file]; !strings.Contains(msg, want) {
			t.Errorf("%s: failure %q, want %q", file, msg, want)
		}
	}
	if _, ok := out.Tables["attn-binding.csv"]; !ok {
		t.Error("an empty table stopped the others")
	}
}
