package reproduce

import (
	"math"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/internal/reference"
)

// The validation target of the GPU model: every published row predicted,
// mean |relative error| at most 10% and none over 20% (the experiment
// spec's targets), with the constants fitted on two rows only.
func TestFlashAttentionAgainstPublished(t *testing.T) {
	ref := reference.GPUResults(t)
	x, err := LoadGPUExperiment("flashattention")
	if err != nil {
		t.Fatal(err)
	}
	out, err := RunGPU(x, NewGPUEvaluator(), ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f := out.Failed(); len(f) > 0 {
		t.Fatalf("rows not predicted: %s", strings.Join(f, "; "))
	}
	e := out.Errors()
	t.Logf("%d published rows: mean %.2f%%, worst %.2f%% (%s); %d held out: mean %.2f%%, worst %.2f%%",
		e.Rows, 100*e.Mean, 100*e.Max, e.WorstRow, e.HeldOut, 100*e.HeldOutMean, 100*e.HeldOutWorst)
	if e.Rows != 36 || e.FittedRows != 2 {
		t.Errorf("%d published rows compared, %d fitted; want 36 and 2", e.Rows, e.FittedRows)
	}
	if x.MaxMean != 0.10 || x.MaxAny != 0.20 {
		t.Errorf("targets %g/%g, want the issue's 0.10/0.20", x.MaxMean, x.MaxAny)
	}
	if e.Mean > x.MaxMean || e.Max > x.MaxAny {
		t.Errorf("mean %.2f%%, worst %.2f%%: targets %.0f%%/%.0f%% missed", 100*e.Mean, 100*e.Max, 100*x.MaxMean, 100*x.MaxAny)
	}
	// Tolerance: a small multiple of what the model achieves (2.4%, 9.1%).
	if e.Mean > 0.04 || e.Max > 0.12 {
		t.Errorf("mean %.2f%%, worst %.2f%%: worse than the model achieved when this test was written (2.42%%, 9.09%%)", 100*e.Mean, 100*e.Max)
	}
}

func TestFlashAttentionFiles(t *testing.T) {
	x, err := LoadGPUExperiment("flashattention")
	if err != nil {
		t.Fatal(err)
	}
	out, err := RunGPU(x, NewGPUEvaluator(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	files, order, err := out.Files()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"flashattention.csv", "flashattention-a100-sxm4-80gb.svg", "flashattention-h100-sxm5-80gb.svg", "flashattention-h200-sxm-141gb.svg", "summary.md"}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("files %v, want %v", order, want)
	}
	lines := strings.Split(strings.TrimSpace(string(files["flashattention.csv"])), "\n")
	if len(lines) != 1+5*2*6 {
		t.Errorf("%d CSV lines, want a header and 60 rows", len(lines))
	}
	// Same inputs, same bytes.
	again, _ := RunGPU(x, NewGPUEvaluator(), "", nil)
	files2, _, _ := again.Files()
	for _, f := range order {
		if string(files[f]) != string(files2[f]) {
			t.Errorf("%s differs between two runs", f)
		}
	}
	// The H200's extra bandwidth never makes it slower than the H100.
	tf := map[string]float64{}
	for _, r := range out.Results {
		tf[r.Row.key()] = r.Report.TFLOPS
	}
	for _, r := range out.Results {
		if r.Row.GPU != "h200-sxm-141gb" {
			continue
		}
		h := r.Row
		h.GPU = "h100-sxm5-80gb"
		if v, ok := tf[h.key()]; ok && r.Report.TFLOPS < v*(1-1e-9) && !math.IsNaN(v) {
			t.Errorf("%s: H200 %.1f < H100 %.1f TFLOP/s", describeRow(r.Row), r.Report.TFLOPS, v)
		}
	}
}
