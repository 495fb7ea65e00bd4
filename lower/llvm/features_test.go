package llvm

import (
	"math"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/einsum/interp"
	"github.com/fusemax/fusemax/tensor"
)

const mathCascade = `cascade fns {
  ranks M
  input X[m]
  output TH[m], SG[m], E2[m], L2[m], PW[m], ER[m], PI[m]
  TH[m] = tanh(X[m])
  SG[m] = sign(X[m])
  E2[m] = exp2(X[m])
  L2[m] = log2(X[m])
  PW[m] = pow(abs(X[m]), 1.5)
  ER[m] = erf(X[m])
  PI[m] = pow(X[m], 3)
}`

// mathBound is the documented worst relative error of each f32 function
// (docs/language.md), a small multiple of what TestMathAccuracy measures.
var mathBound = map[string]float64{"TH": 5e-7, "SG": 0, "E2": 3e-7, "L2": 5e-7, "PW": 2e-6, "ER": 1e-6, "PI": 4e-6}

var mathRef = map[string]func(float64) float64{
	"TH": math.Tanh, "SG": einsum.Sign.Apply,
	"E2": math.Exp2, "L2": math.Log2, "PW": func(x float64) float64 { return math.Pow(math.Abs(x), 1.5) },
	"ER": math.Erf, "PI": func(x float64) float64 { return math.Pow(x, 3) },
}

// TestMathAccuracy measures the f32 functions against Go's float64 math
// over a sweep of [-20, 20] (a log scale near 0, and the special values),
// element by element relative to max(|want|, 1e-30).
func TestMathAccuracy(t *testing.T) {
	needTools(t)
	prog, err := einsum.Parse("fns.einsum", []byte(mathCascade))
	if err != nil {
		t.Fatal(err)
	}
	c := prog.Cascades[0]
	var xs []float64
	for i := -2000; i <= 2000; i++ {
		xs = append(xs, float64(i)/100)
	}
	for e := -30; e <= 0; e++ {
		xs = append(xs, math.Ldexp(1.37, e), -math.Ldexp(1.37, e))
	}
	xs = append(xs, 0, math.Inf(1), math.Inf(-1), math.NaN(), 1, -1, 100, -100, 200)
	in := &tensor.Dense{Shape: []int{len(xs)}, Data: xs}
	sizes := map[string]int64{"M": int64(len(xs))}
	got, err := Run(c, sizes, map[string]*tensor.Dense{"X": in}, Options{DType: tensor.F32})
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range mathRef {
		worst, at := 0.0, 0.0
		for i, x := range got["X"].Data {
			w, g := f(x), got[name].Data[i]
			if math.IsNaN(w) || math.IsNaN(g) || math.IsInf(w, 0) || math.IsInf(g, 0) {
				if !(math.IsNaN(w) && math.IsNaN(g)) && w != g && math.Abs(w) < math.MaxFloat32 {
					t.Errorf("%s(%g) = %g, want %g", name, x, g, w)
				}
				continue
			}
			if math.Abs(w) > math.MaxFloat32 || math.Abs(w) < 0x1p-126 {
				continue // outside float32's normal range
			}
			if r := math.Abs(g-w) / math.Max(math.Abs(w), 1e-30); r > worst {
				worst, at = r, x
			}
		}
		t.Logf("%s: max relative error %.2e (at x = %g)", name, worst, at)
		if worst > mathBound[name] {
			t.Errorf("%s: relative error %.3g at x = %g exceeds %g", name, worst, at, mathBound[name])
		}
	}
}

// featureCases exercise each language feature on both backends against
// values written out by hand.
var featureCases = []struct {
	name  string
	src   string
	sizes map[string]int64
	in    map[string][]float64
	want  map[string][]float64 // NaN: undefined (partial outputs only)
}{
	{
		name:  "index variables as values",
		src:   `cascade c { ranks M, P input X[m, p] output S[m, p] S[m, p] = X[m, p] - 0.5 * (p - m) }`,
		sizes: map[string]int64{"M": 2, "P": 3},
		in:    map[string][]float64{"X": {1, 1, 1, 2, 2, 2}},
		want:  map[string][]float64{"S": {1, 0.5, 0, 2.5, 2, 1.5}},
	},
	{
		name:  "index value of a reduced variable",
		src:   `cascade c { ranks M input X[m] output Z Z = X[m] * m }`,
		sizes: map[string]int64{"M": 4},
		in:    map[string][]float64{"X": {1, 1, 2, 1}},
		want:  map[string][]float64{"Z": {0 + 1 + 4 + 3}},
	},
	{
		name:  "-inf minus -inf is -inf",
		src:   `cascade c { ranks M input A[m], B[m] output D[m], E[m] D[m] = exp(A[m] - B[m]) E[m] = A[m] - B[m] }`,
		sizes: map[string]int64{"M": 4},
		in:    map[string][]float64{"A": {math.Inf(-1), math.Inf(1), math.Inf(-1), 0}, "B": {math.Inf(-1), math.Inf(1), 0, math.Inf(-1)}},
		want:  map[string][]float64{"D": {0, math.NaN(), 0, math.Inf(1)}, "E": {math.Inf(-1), math.NaN(), math.Inf(-1), math.Inf(1)}},
	},
	{
		name:  "data-dependent filter of a map",
		src:   `cascade c { ranks M input X[m], S[m] output partial Y[m] Y[m: S[m] > 0] = X[m] }`,
		sizes: map[string]int64{"M": 4},
		in:    map[string][]float64{"X": {1, 2, 3, 4}, "S": {1, 0, -1, 0.5}},
		want:  map[string][]float64{"Y": {1, math.NaN(), math.NaN(), 4}},
	},
	{
		name: "data-dependent filter of a reduction, with an affine filter before it",
		src: `cascade c { ranks M, P input X[m, p], Sel[m, p] output Z[p]
		  Z[p: m <= p && Sel[m, p] != 0] = X[m, p] }`,
		sizes: map[string]int64{"M": 3, "P": 3},
		in:    map[string][]float64{"X": {1, 2, 3, 10, 20, 30, 100, 200, 300}, "Sel": {1, 0, 1, 1, 1, 0, 1, 1, 1}},
		want:  map[string][]float64{"Z": {1, 20, 303}},
	},
	{
		name: "top-k over a rank, ties to the lower index, NaN never selected",
		src: `cascade c { ranks M, P input G[m, p] output T[m, p]
		  T[m, p] = G[m, p] :: topk(m, 2) }`,
		sizes: map[string]int64{"M": 4, "P": 2},
		in:    map[string][]float64{"G": {3, math.NaN(), 1, 5, 3, 5, 0, 4}},
		want:  map[string][]float64{"T": {1, 0, 0, 1, 1, 1, 0, 0}},
	},
}

func TestFeaturesOnBothBackends(t *testing.T) {
	needTools(t)
	for _, tc := range featureCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prog, err := einsum.Parse("t.einsum", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			c := prog.Cascades[0]
			sizes, _, err := c.Bind(tc.sizes)
			if err != nil {
				t.Fatal(err)
			}
			in := map[string]*tensor.Dense{}
			for _, x := range c.Inputs {
				in[x.Name] = &tensor.Dense{Shape: x.Shape(sizes), Data: tc.in[x.Name]}
			}
			backends := map[string]func() (map[string]*tensor.Dense, error){
				"interp": func() (map[string]*tensor.Dense, error) {
					return interp.Run(c, sizes, in, interp.Options{DType: interp.F64})
				},
				"llvm f64": func() (map[string]*tensor.Dense, error) { return Run(c, sizes, in, Options{DType: tensor.F64}) },
				"llvm f32": func() (map[string]*tensor.Dense, error) { return Run(c, sizes, in, Options{DType: tensor.F32}) },
			}
			for name, run := range backends {
				got, err := run()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				for o, want := range tc.want {
					for i, w := range want {
						g := got[o].Data[i]
						if !(g == w || math.IsNaN(g) && math.IsNaN(w)) && !(math.Abs(g-w) < 1e-6*math.Abs(w)) {
							t.Errorf("%s: %s = %v, want %v", name, o, got[o].Data, want)
							break
						}
					}
				}
			}
		})
	}
}

func TestNeverWrittenOutputIsAnErrorOnBothBackends(t *testing.T) {
	needTools(t)
	for name, err := range runOnX123(t, `cascade c { ranks M input X[m] output Y[m] Y[0] = X[0] }`) {
		if err == nil || !strings.Contains(err.Error(), "output Y is not defined at Y[1]") {
			t.Errorf("%s: %v, want an error naming Y[1]", name, err)
		}
	}
}

func TestOutOfExtentReadOnBothBackends(t *testing.T) {
	needTools(t)
	for _, tc := range []struct{ src, want string }{
		{`cascade c { ranks M input X[m] output partial Y[m] Y[m: m < 3] = X[m + 1] }`, "read X[m + 1] at X[3] is outside X's extent [3]"},
		{`cascade c { ranks M input X[m] output partial Y[m] Y[m: m < 2] = X[m + 1] }`, ""},
	} {
		for name, err := range runOnX123(t, tc.src) {
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("%s: %s: %v, want %q", name, tc.src, err, tc.want)
			}
		}
	}
}

// runOnX123 runs a cascade of one input X[m] at M = 3, X = (1, 2, 3), on
// both backends and returns their errors.
func runOnX123(t *testing.T, src string) map[string]error {
	t.Helper()
	prog, err := einsum.Parse("t.einsum", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	c := prog.Cascades[0]
	sizes := map[string]int64{"M": 3}
	in := map[string]*tensor.Dense{"X": {Shape: []int{3}, Data: []float64{1, 2, 3}}}
	_, ierr := interp.Run(c, sizes, in, interp.Options{})
	_, lerr := Run(c, sizes, in, Options{DType: tensor.F32})
	return map[string]error{"interp": ierr, "llvm": lerr}
}
