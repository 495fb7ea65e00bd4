package interp

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/tensor"
)

// softmaxAttention is attention written plainly: S = QᵀK, softmax over m for
// each query p (max subtracted), AV = V·softmax. Unscaled, like the cascades.
func softmaxAttention(q, k, v *tensor.Dense, causal bool) *tensor.Dense {
	E, P := q.Shape[0], q.Shape[1]
	M := k.Shape[1]
	F := v.Shape[0]
	av := tensor.New(F, P)
	s := make([]float64, M)
	for p := 0; p < P; p++ {
		mx := math.Inf(-1)
		for m := 0; m < M; m++ {
			var d float64
			for e := 0; e < E; e++ {
				d += q.At(e, p) * k.At(e, m)
			}
			s[m] = d
			if (!causal || m <= p) && d > mx {
				mx = d
			}
		}
		var den float64
		for m := 0; m < M; m++ {
			if causal && m > p {
				s[m] = 0
				continue
			}
			s[m] = math.Exp(s[m] - mx)
			den += s[m]
		}
		for f := 0; f < F; f++ {
			var num float64
			for m := 0; m < M; m++ {
				num += v.At(f, m) * s[m]
			}
			av.Set(num/den, f, p)
		}
	}
	return av
}

func parse(t testing.TB, src string) *einsum.Cascade {
	t.Helper()
	prog, err := einsum.Parse("test.einsum", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return prog.Cascades[0]
}

func kernel(t testing.TB, name string) *einsum.Cascade {
	t.Helper()
	prog, err := kernels.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return prog.Cascade(name)
}

var attentionShapes = []map[string]int64{
	{"E": 4, "F": 3, "M": 8, "P": 5, "M0": 2},
	{"E": 16, "F": 8, "M": 64, "P": 32, "M0": 16},
	{"E": 8, "F": 8, "M": 32, "P": 7, "M0": 32}, // one tile
	{"E": 3, "F": 5, "M": 12, "P": 1, "M0": 4},
	{"E": 32, "F": 16, "M": 96, "P": 24, "M0": 8},
}

func TestAttentionMatchesSoftmax(t *testing.T) {
	for _, name := range []string{"attention_3pass", "attention_2pass", "attention_1pass"} {
		c := kernel(t, name)
		for si, shape := range attentionShapes {
			in, err := RandomInputs(c, shape, uint64(si+1))
			if err != nil {
				t.Fatal(err)
			}
			want := softmaxAttention(in["Q"], in["K"], in["V"], false)
			for _, dt := range []DType{F64, F32} {
				out, err := Run(c, shape, in, Options{DType: dt})
				if err != nil {
					t.Fatalf("%s %v %v: %v", name, shape, dt, err)
				}
				abs, rel, err := tensor.MaxAbsDiff(out["AV"], want)
				if err != nil {
					t.Fatal(err)
				}
				tol := 1e-9
				if dt == F32 {
					tol = 1e-5
				}
				t.Logf("%s %s %v: max abs %.2e rel %.2e", name, dt, shapeString(shape), abs, rel)
				if abs > tol || math.IsNaN(abs) {
					t.Errorf("%s %s %v: AV differs from softmax attention by %g", name, dt, shapeString(shape), abs)
				}
			}
		}
	}
}

func shapeString(s map[string]int64) string {
	var parts []string
	for _, k := range []string{"E", "F", "M", "P", "M0"} {
		if v, ok := s[k]; ok {
			parts = append(parts, fmt.Sprintf("%s=%d", k, v))
		}
	}
	return strings.Join(parts, ",")
}

func TestRunIsDeterministicAndReturnsEveryTensor(t *testing.T) {
	c := kernel(t, "attention_1pass")
	shape := attentionShapes[1]
	in, _ := RandomInputs(c, shape, 9)
	a, err := Run(c, shape, in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Run(c, shape, in, Options{})
	for _, tt := range c.Tensors {
		x, y := a[tt.Name], b[tt.Name]
		if x == nil {
			t.Fatalf("tensor %s missing from the result", tt.Name)
		}
		for i := range x.Data {
			if math.Float64bits(x.Data[i]) != math.Float64bits(y.Data[i]) {
				t.Fatalf("%s differs between runs", tt.Name)
			}
		}
	}
	// The recurrence keeps every slice: RM has M1+1 rows, the last the
	// global max of QK.
	rm := a["RM"]
	M1 := int(shape["M"] / shape["M0"])
	if rm.Shape[0] != M1+1 {
		t.Fatalf("RM shape %v", rm.Shape)
	}
	for p := 0; p < int(shape["P"]); p++ {
		mx := math.Inf(-1)
		for m := 0; m < int(shape["M"]); m++ {
			mx = math.Max(mx, a["QK"].At(m/int(shape["M0"]), m%int(shape["M0"]), p))
		}
		if rm.At(M1, p) != mx {
			t.Fatalf("RM[M1, %d] = %v, want %v", p, rm.At(M1, p), mx)
		}
	}
	// Inputs are not modified.
	if in["Q"].Data[0] != a["Q"].Data[0] {
		t.Fatal("input changed")
	}
}

func TestF32RoundsEveryStep(t *testing.T) {
	c := parse(t, `cascade c { ranks K input A[k] output Z Z = A[k] * 3 }`)
	// 1/3 rounded to float32 times 3, summed in float32.
	a := tensor.Filled(1.0/3, 4)
	out, err := Run(c, map[string]int64{"K": 4}, map[string]*tensor.Dense{"A": a}, Options{DType: F32})
	if err != nil {
		t.Fatal(err)
	}
	x := float32(1.0 / 3)
	var s float32
	for i := 0; i < 4; i++ {
		s = float32(s + float32(x*3))
	}
	if got := out["Z"].Data[0]; got != float64(s) {
		t.Fatalf("Z = %v, want %v", got, s)
	}
	if out["A"].Data[0] != float64(x) {
		t.Fatal("input not rounded to float32")
	}
}

func TestToyCascades(t *testing.T) {
	for _, name := range []string{"toy_cascade1", "toy_cascade2", "toy_cascade3"} {
		c := kernel(t, name)
		for _, k := range []int64{1, 5, 64} {
			sizes := map[string]int64{"K": k}
			in, _ := RandomInputs(c, sizes, 3)
			out, err := Run(c, sizes, in, Options{})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var y, sa float64
			for i := range in["A"].Data {
				y += in["A"].Data[i] * in["B"].Data[i]
				sa += in["A"].Data[i]
			}
			if got := out["Z"].Data[0]; math.Abs(got-y*sa) > 1e-12 {
				t.Errorf("%s K=%d: Z = %v, want %v", name, k, got, y*sa)
			}
		}
	}
}

func TestGEMM(t *testing.T) {
	c := kernel(t, "gemm")
	sizes := map[string]int64{"K": 7, "M": 5, "N": 3}
	in, _ := RandomInputs(c, sizes, 1)
	out, err := Run(c, sizes, in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for m := 0; m < 5; m++ {
		for n := 0; n < 3; n++ {
			var s float64
			for k := 0; k < 7; k++ {
				s += in["A"].At(k, m) * in["B"].At(k, n)
			}
			if got := out["Z"].At(m, n); math.Abs(got-s) > 1e-14 {
				t.Fatalf("Z[%d,%d] = %v, want %v", m, n, got, s)
			}
		}
	}
}

const causalSrc = `
cascade causal {
  ranks E, F, M, P
  input Q[e, p], K[e, m], V[f, m]
  output AV[f, p]

  QK[m, p] = Q[e, p] * K[e, m]
  GM[p] = QK[m, p] :: max(m)
  S[m: m <= p, p] = exp(QK[m, p] - GM[p])
  SD[p] = S[m, p]
  A[m, p] = S[m, p] / SD[p]
  AV[f, p] = A[m, p] * V[f, m]
}
`

func TestCausalFilter(t *testing.T) {
	c := parse(t, causalSrc)
	for _, sh := range []map[string]int64{{"E": 4, "F": 3, "M": 6, "P": 6}, {"E": 8, "F": 8, "M": 40, "P": 40}, {"E": 2, "F": 2, "M": 3, "P": 7}} {
		in, _ := RandomInputs(c, sh, 5)
		out, err := Run(c, sh, in, Options{})
		if err != nil {
			t.Fatal(err)
		}
		// GM is the max over all m; softmax is invariant to the shift.
		want := softmaxAttention(in["Q"], in["K"], in["V"], true)
		abs, _, _ := tensor.MaxAbsDiff(out["AV"], want)
		if abs > 1e-12 {
			t.Errorf("%v: causal AV differs by %g", sh, abs)
		}
		// The map A leaves the masked points undefined (NaN).
		s, a := out["S"], out["A"]
		for m := 0; m < s.Shape[0]; m++ {
			for p := 0; p < s.Shape[1]; p++ {
				if (m <= p) == math.IsNaN(s.At(m, p)) || (m <= p) == math.IsNaN(a.At(m, p)) {
					t.Fatalf("S/A[%d,%d] = %v/%v", m, p, s.At(m, p), a.At(m, p))
				}
			}
		}
	}
}

func TestSemantics(t *testing.T) {
	cases := []struct {
		name, src string
		sizes     map[string]int64
		in        map[string][]float64
		tensor    string
		want      []float64
	}{
		{
			name:   "empty max is -inf and defined",
			src:    `cascade c { ranks I, J input A[i, j] output G[j] S[i: i < j, j] = A[i, j]  G[j] = S[i, j] :: max(i) }`,
			sizes:  map[string]int64{"I": 2, "J": 3},
			in:     map[string][]float64{"A": {1, 2, 3, 4, 5, 6}},
			tensor: "G",
			want:   []float64{math.Inf(-1), 2, 6},
		},
		{
			name:   "empty sum is 0, min is +inf",
			src:    `cascade c { ranks I, J input A[i, j] output G[j], H[j] S[i: i < j, j] = A[i, j]  G[j] = S[i, j]  H[j] = S[i, j] :: min(i) }`,
			sizes:  map[string]int64{"I": 2, "J": 3},
			in:     map[string][]float64{"A": {1, 2, 3, 4, 5, 6}},
			tensor: "H",
			want:   []float64{math.Inf(1), 2, 3},
		},
		{
			name:   "nested reductions: max over i of sums over j",
			src:    `cascade c { ranks I, J input A[i, j] output Z Z = A[i, j] :: max(i) }`,
			sizes:  map[string]int64{"I": 3, "J": 2},
			in:     map[string][]float64{"A": {1, 2, 5, -1, 0, 3}},
			tensor: "Z",
			want:   []float64{4},
		},
		{
			name:   "broadcast and size values",
			src:    `cascade c { ranks I, J input A[i], B[j] output Z[i, j] Z[i, j] = A[i] * B[j] + J / sqrt(I) - max(A[i], 0) }`,
			sizes:  map[string]int64{"I": 4, "J": 2},
			in:     map[string][]float64{"A": {1, -2, 3, 0}, "B": {10, 20}},
			tensor: "Z",
			want:   []float64{10 + 1 - 1, 20 + 1 - 1, -20 + 1, -40 + 1, 30 + 1 - 3, 60 + 1 - 3, 1, 1},
		},
		{
			name:   "filter on the reduced variable restricts the reduction",
			src:    `cascade c { ranks I, J input A[i, j] output Z[j] Z[j: i <= j] = A[i, j] }`,
			sizes:  map[string]int64{"I": 3, "J": 3},
			in:     map[string][]float64{"A": {1, 2, 3, 4, 5, 6, 7, 8, 9}},
			tensor: "Z",
			want:   []float64{1, 2 + 5, 3 + 6 + 9},
		},
		{
			name:   "filtered-out points are never read",
			src:    `cascade c { ranks I input A[i] output Z[i] Z[i: i >= 1] = A[i - 1]  Z[i: i == 0] = 7 }`,
			sizes:  map[string]int64{"I": 3},
			in:     map[string][]float64{"A": {1, 2, 3}},
			tensor: "Z",
			want:   []float64{7, 1, 2},
		},
		{
			name:   "stopping condition ends the loop early",
			src:    `cascade c { ranks I input A[i] output partial Z R[0] = 0 iterate i until i >= 2 { R[i+1] = R[i] + A[i] } Z = R[2] + R[3] }`,
			sizes:  map[string]int64{"I": 4},
			in:     map[string][]float64{"A": {1, 2, 4, 8}},
			tensor: "R",
			want:   []float64{0, 1, 3, math.NaN(), math.NaN()},
		},
		{
			name:   "a top-level recurrence runs point by point",
			src:    `cascade c { ranks I input A[i] output Z R[0] = 0 R[i+1] = R[i] + A[i] Z = R[I] }`,
			sizes:  map[string]int64{"I": 4},
			in:     map[string][]float64{"A": {1, 2, 4, 8}},
			tensor: "R",
			want:   []float64{0, 1, 3, 7, 15},
		},
		{
			name:   "inf constants and exp",
			src:    `cascade c { ranks I input A[i] output Z[i] Z[i] = max(A[i], -inf) + exp(A[i] - inf) }`,
			sizes:  map[string]int64{"I": 2},
			in:     map[string][]float64{"A": {1, -3}},
			tensor: "Z",
			want:   []float64{1, -3},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prog, err := einsum.Parse("t.einsum", []byte(tc.src))
			if err != nil {
				t.Skipf("not accepted by the checker: %v", err)
			}
			c := prog.Cascades[0]
			in := map[string]*tensor.Dense{}
			for _, tt := range c.Inputs {
				shape := tt.Shape(tc.sizes)
				in[tt.Name] = &tensor.Dense{Shape: shape, Data: tc.in[tt.Name]}
			}
			out, err := Run(c, tc.sizes, in, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := out[tc.tensor].Data
			if len(got) != len(tc.want) {
				t.Fatalf("%s = %v, want %v", tc.tensor, got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] && !(math.IsNaN(got[i]) && math.IsNaN(tc.want[i])) {
					t.Fatalf("%s = %v, want %v", tc.tensor, got, tc.want)
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	overlap := parse(t, `cascade c { ranks I input A[i] output Z[i]
  Z[i: i <= 2] = A[i]
  Z[i: i >= 2] = A[i] * 2 }`)
	in := map[string]*tensor.Dense{"A": tensor.New(4)}
	_, err := Run(overlap, map[string]int64{"I": 4}, in, Options{})
	if err == nil || !strings.Contains(err.Error(), "test.einsum:3:3") || !strings.Contains(err.Error(), "Z[2] is already defined") {
		t.Errorf("overlap: %v", err)
	}

	// A read the checker cannot see: shift the index of a checked access.
	shift := parse(t, `cascade c { ranks I input A[i] output Z[i] Z[i] = A[i] + 1 }`)
	rd := shift.Einsums[0].Reads()[0]
	rd.Index[0].Const = einsum.PolyConst(1)
	_, err = Run(shift, map[string]int64{"I": 3}, map[string]*tensor.Dense{"A": tensor.New(3)}, Options{})
	if err == nil || !strings.Contains(err.Error(), "test.einsum:1:51") || !strings.Contains(err.Error(), "A[3]") {
		t.Errorf("out of range: %v", err)
	}

	c := kernel(t, "gemm")
	sizes := map[string]int64{"K": 2, "M": 2, "N": 2}
	good, _ := RandomInputs(c, sizes, 1)
	for name, mutate := range map[string]func(map[string]*tensor.Dense){
		"missing input": func(m map[string]*tensor.Dense) { delete(m, "B") },
		"wrong shape":   func(m map[string]*tensor.Dense) { m["B"] = tensor.New(2, 3) },
		"unknown input": func(m map[string]*tensor.Dense) { m["C"] = tensor.New(1) },
		"short data":    func(m map[string]*tensor.Dense) { m["B"] = &tensor.Dense{Shape: []int{2, 2}, Data: []float64{1}} },
	} {
		in := map[string]*tensor.Dense{}
		for k, v := range good {
			in[k] = v
		}
		mutate(in)
		if _, err := Run(c, sizes, in, Options{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Run(c, map[string]int64{"K": 2}, good, Options{}); err == nil {
		t.Error("missing size: no error")
	}
	if _, err := Run(kernel(t, "attention_1pass"), map[string]int64{"E": 2, "F": 2, "M": 10, "P": 2, "M0": 3}, nil, Options{}); err == nil {
		t.Error("M0 not dividing M: no error")
	}
}

func TestLibraryKernelsRunOnSmallShapes(t *testing.T) {
	sizes := map[string]int64{"E": 3, "F": 2, "M": 6, "P": 4, "M0": 3, "K": 5, "N": 2, "S": 4, "S0": 2,
		"H": 2, "G": 1, "W": 3, "T": 1, "J": 2, "P0": 2}
	for _, name := range kernels.Names() {
		c := kernel(t, name)
		in, err := RandomInputs(c, sizes, 1)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out, err := Run(c, sizes, in, Options{DType: F32})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, o := range c.Outputs {
			for _, v := range out[o.Name].Data {
				if math.IsNaN(v) {
					t.Errorf("%s: output %s has undefined points", name, o.Name)
					break
				}
			}
		}
	}
}

// BenchmarkAttention1Pass is the issue's speed target: well under 2 s per run.
func BenchmarkAttention1Pass(b *testing.B) {
	c := kernel(b, "attention_1pass")
	sizes := map[string]int64{"E": 64, "F": 64, "M": 1024, "P": 1024, "M0": 256}
	in, err := RandomInputs(c, sizes, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Run(c, sizes, in, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleRun() {
	prog, err := einsum.Parse("example.einsum", []byte(`
cascade softmax {
  ranks M
  input X[m]
  output Y[m]
  G = X[m] :: max(m)
  S[m] = exp(X[m] - G)
  D = S[m]
  Y[m] = S[m] / D
}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	c := prog.Cascade("softmax")
	x := &tensor.Dense{Shape: []int{3}, Data: []float64{0, math.Log(2), math.Log(5)}}
	out, err := Run(c, map[string]int64{"M": 3}, map[string]*tensor.Dense{"X": x}, Options{DType: F64})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.3f\n", out["Y"].Data)
	// Output: [0.125 0.250 0.625]
}

// A causal 1-pass cascade: the filter makes whole tiles empty for early
// queries, so LM is -inf there and the running state must carry over.
const causal1PassSrc = `
cascade causal_1pass {
  ranks E, F, M, P
  split M into M1, M0
  input Q[e, p], K[e, m], V[f, m]
  output AV[f, p]

  BK[e, m1, m0] = K[e, m1*M0 + m0]
  BV[f, m1, m0] = V[f, m1*M0 + m0]
  RM[0, p] = -inf
  RD[0, p] = 0
  RNV[f, 0, p] = 0

  iterate m1 until m1 >= M1 {
    QK[m1, m0: m1*M0 + m0 <= p, p] = Q[e, p] * BK[e, m1, m0]
    LM[m1, p]       = QK[m1, m0, p] :: max(m0)
    RM[m1+1, p]     = max(RM[m1, p], LM[m1, p])
    SLN[m1, m0, p]  = exp(QK[m1, m0, p] - RM[m1+1, p])
    SLD[m1, p]      = SLN[m1, m0, p]
    SLNV[f, m1, p]  = SLN[m1, m0, p] * BV[f, m1, m0]
    PRM[m1, p]      = exp(RM[m1, p] - RM[m1+1, p])
    SPD[m1, p]      = RD[m1, p] * PRM[m1, p]
    RD[m1+1, p]     = SLD[m1, p] + SPD[m1, p]
    SPNV[f, m1, p]  = RNV[f, m1, p] * PRM[m1, p]
    RNV[f, m1+1, p] = SLNV[f, m1, p] + SPNV[f, m1, p]
  }
  AV[f, p] = RNV[f, M1, p] / RD[M1, p]
}
`

func TestCausal1Pass(t *testing.T) {
	c := parse(t, causal1PassSrc)
	for _, sh := range []map[string]int64{
		{"E": 4, "F": 3, "M": 8, "P": 8, "M0": 2},
		{"E": 16, "F": 8, "M": 64, "P": 64, "M0": 16},
		{"E": 8, "F": 4, "M": 32, "P": 20, "M0": 8},
	} {
		in, _ := RandomInputs(c, sh, 11)
		want := softmaxAttention(in["Q"], in["K"], in["V"], true)
		for _, dt := range []DType{F64, F32} {
			out, err := Run(c, sh, in, Options{DType: dt})
			if err != nil {
				t.Fatal(err)
			}
			abs, _, _ := tensor.MaxAbsDiff(out["AV"], want)
			tol := 1e-12
			if dt == F32 {
				tol = 1e-5
			}
			t.Logf("causal_1pass %s %s: max abs %.2e", dt, shapeString(sh), abs)
			if !(abs <= tol) {
				t.Errorf("%s %v: causal 1-pass AV differs by %g", dt, shapeString(sh), abs)
			}
		}
	}
}
