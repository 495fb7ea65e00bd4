package kernels_test

import (
	"errors"
	"math"
	"testing"

	"github.com/fusemax/fusemax/einsum/interp"
	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/lower/llvm"
	"github.com/fusemax/fusemax/tensor"
)

// refCase is a library kernel at one shape with an independent reference:
// plain Go loops written from the source paper's formulas, not from the
// cascade, so that neither backend checks itself.
type refCase struct {
	kernel string
	shape  map[string]int64
	// prepare may replace seeded inputs (statistics that must come from a
	// real attention, selections); nil keeps them.
	prepare func(sz map[string]int64, in map[string]*tensor.Dense)
	ref     func(sz map[string]int64, in map[string]*tensor.Dense) map[string]*tensor.Dense
}

// Tolerances, norm-wise relative to the reference's largest magnitude. The
// interpreter runs in float64, where the sums here (at most a few hundred
// terms) stay within 1e-13; the compiled code runs in float32 (unit roundoff
// 6e-8, the polynomial exp and the other f32 functions up to 4e-7 each), and
// every kernel stays below 1e-5 there.
const (
	tolInterp = 1e-12
	tolLLVM   = 1e-5
)

func TestKernelsAgainstReference(t *testing.T) {
	_, toolErr := llvm.FindTools()
	if toolErr != nil && !errors.Is(toolErr, llvm.ErrNoTools) {
		t.Fatal(toolErr)
	}
	covered := map[string]bool{}
	for _, rc := range referenceCases() {
		covered[rc.kernel] = true
		t.Run(rc.kernel, func(t *testing.T) {
			t.Parallel()
			prog, err := kernels.Load(rc.kernel)
			if err != nil {
				t.Fatal(err)
			}
			c := prog.Cascades[0]
			sz, _, err := c.Bind(rc.shape)
			if err != nil {
				t.Fatal(err)
			}
			in, err := interp.RandomInputs(c, sz, 1)
			if err != nil {
				t.Fatal(err)
			}
			if rc.prepare != nil {
				rc.prepare(sz, in)
			}
			want := rc.ref(sz, in)
			got, err := interp.Run(c, sz, in, interp.Options{DType: interp.F64})
			if err != nil {
				t.Fatal(err)
			}
			compare(t, "interp f64", want, got, tolInterp)
			if toolErr != nil {
				t.Logf("LLVM backend not checked: %v", toolErr)
				return
			}
			got, err = llvm.Run(c, sz, in, llvm.Options{DType: tensor.F32})
			if err != nil {
				t.Fatal(err)
			}
			compare(t, "llvm f32", want, got, tolLLVM)
		})
	}
	for _, k := range kernels.Names() {
		if !covered[k] && !legacy[k] {
			t.Errorf("kernel %s has no plain-Go reference case", k)
		}
	}
}

// legacy kernels are checked against references elsewhere (einsum/interp
// and lower/llvm tests).
var legacy = map[string]bool{"attention_1pass": true, "attention_2pass": true, "attention_3pass": true,
	"gemm": true, "toy_cascade1": true, "toy_cascade2": true, "toy_cascade3": true}

func compare(t *testing.T, backend string, want, got map[string]*tensor.Dense, tol float64) {
	t.Helper()
	for name, w := range want {
		g := got[name]
		if g == nil {
			t.Errorf("%s: no output %s", backend, name)
			continue
		}
		abs, _, err := tensor.MaxAbsDiff(g, w)
		if err != nil {
			t.Errorf("%s %s: %v", backend, name, err)
			continue
		}
		var scale float64
		for _, v := range w.Data {
			if !math.IsInf(v, 0) && !math.IsNaN(v) {
				scale = math.Max(scale, math.Abs(v))
			}
		}
		rel := abs
		if scale > 0 {
			rel = abs / scale
		}
		t.Logf("%-10s %-4s max |Δ| %.2e  rel %.2e", backend, name, abs, rel)
		if !(rel <= tol) {
			t.Errorf("%s %s: relative deviation %.3g exceeds %g", backend, name, rel, tol)
		}
	}
}
