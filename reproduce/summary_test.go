package reproduce

import (
	"math"
	"strings"
	"testing"
)

// The artifact's own CSVs give the paper's headline numbers (MODEL.md §11).
func TestHeadlineFromReference(t *testing.T) {
	x, err := LoadExperiment("fusemax-micro24")
	if err != nil {
		t.Fatal(err)
	}
	ref := loadReference(t, x)
	checkHeadline(t, "reference", x, ref)
	out := &Output{Experiment: x, Profile: x.Profile, Tables: ref, Files: x.csvFiles(), Failed: map[string]string{"pareto.csv": "boom"}}
	md := string(Summary(out, nil, nil, ""))
	for _, want := range []string{"6.72×", "| `fusemax-micro24` |", "`pareto.csv`: boom"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
}

// checkHeadline holds tables to the paper's headline numbers, to two
// decimals: attention 6.72× at 0.79 of FLAT's energy, end to end 5.30× at
// 0.83 (CASCADES.md, MODEL.md §11).
func checkHeadline(t *testing.T, what string, x *Experiment, tables map[string]*Table) {
	t.Helper()
	h, ok := x.Headline(tables)
	if !ok {
		t.Fatalf("%s: headline tables missing", what)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"attention speedup", h.AttnSpeedup, 6.72},
		{"attention energy", h.AttnEnergy, 0.79},
		{"end-to-end speedup", h.E2ESpeedup, 5.30},
		{"end-to-end energy", h.E2EEnergy, 0.83},
	} {
		if math.Abs(c.got-c.want) > 0.005 {
			t.Errorf("%s %s = %.4f, want %.2f", what, c.name, c.got, c.want)
		}
	}
}
