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

// summary.md states the paper's numbers only from the experiment spec, and
// the reference CSVs' headline only as computed from them (it once printed
// FuseMax's numbers as fixed text for any experiment).
func TestSummaryClaimsComputed(t *testing.T) {
	x, err := LoadExperiment("fusemax-micro24")
	if err != nil {
		t.Fatal(err)
	}
	dir := referenceDir(t)
	read, err := ReadOutput(x, dir)
	if err != nil {
		t.Fatal(err)
	}
	// Scale FLAT's latencies: the computed speedup must follow.
	flat := read.Tables["attn-flat.csv"]
	for _, r := range flat.Rows {
		r.Vals[flat.Col("latency")] *= 2
	}
	out := &Output{Experiment: x, Profile: x.Profile, Tables: read.Tables, Files: x.csvFiles(), Failed: map[string]string{}}
	md := string(Summary(out, nil, nil, dir))
	if !strings.Contains(md, "The paper reports 6.7× / 0.79 for attention and 5.3× / 0.83 end to end") ||
		!strings.Contains(md, "give 6.72× / 0.787 and 5.30× / 0.833") || !strings.Contains(md, "| `fusemax-micro24` | 13.45× |") {
		t.Errorf("summary:\n%s", md)
	}
	x.HeadlineSpec.Paper = nil
	md = string(Summary(out, nil, nil, ""))
	if strings.Contains(md, "paper reports") || strings.Contains(md, "reference CSVs") {
		t.Errorf("claims without a source:\n%s", md)
	}
}
