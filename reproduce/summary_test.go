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
	h, ok := x.Headline(ref)
	if !ok {
		t.Fatal("headline tables missing")
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
			t.Errorf("%s = %.4f, want %.2f", c.name, c.got, c.want)
		}
	}
	out := &Output{Experiment: x, Profile: x.Profile, Tables: ref, Files: x.csvFiles(), Failed: map[string]string{"pareto.csv": "boom"}}
	md := string(Summary(out, nil, nil, ""))
	for _, want := range []string{"6.72×", "| `fusemax-micro24` |", "`pareto.csv`: boom"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
}
