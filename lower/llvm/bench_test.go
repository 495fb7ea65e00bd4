package llvm

import (
	"context"
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/fusemax/fusemax/einsum/interp"
	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/tensor"
)

// The benchmarks measure attention and report GFLOP/s by the convention
// 4·M·P·E (two matrix products). BenchmarkLLVM1Pass runs the compiled 1-pass
// cascade at M = P = N; the Go baselines run at P = 4096, E = F = 64. Run
// them with: go test -run '^$' -bench . ./lower/llvm (make bench also runs
// the whole command against NumPy: bench/compare.sh).

const benchE, benchP = 64, 4096

func attentionFlops(m int) float64 { return 4 * float64(m) * benchP * benchE }

// BenchmarkLLVM1Pass compiles the 1-pass cascade (through the build cache)
// and reports the fastest kernel call (inside the driver: no process start
// or I/O) as GFLOP/s of wall time and of CPU time (the latter is what a
// shared machine cannot steal), and the driver's peak RSS and intermediates.
// The working memory does not grow with N; the RSS grows by the inputs and
// output (4·N·64·4 bytes).
func BenchmarkLLVM1Pass(b *testing.B) {
	needTools(b)
	cases := []struct {
		n, d    int64
		threads int
	}{
		{4096, 64, 1}, {16384, 64, 1}, {16640, 64, 1}, {65536, 64, 1},
		{4096, 128, 1}, {16384, 128, 1}, {16384, 64, 2},
	}
	for _, tc := range cases {
		b.Run(fmt.Sprintf("N=%d/d=%d/threads=%d", tc.n, tc.d, tc.threads), func(b *testing.B) {
			prog, err := kernels.Load("attention_1pass")
			if err != nil {
				b.Fatal(err)
			}
			c := prog.Cascades[0]
			sizes, _, err := c.Bind(map[string]int64{"E": tc.d, "F": tc.d, "M": tc.n, "M0": 64, "P": tc.n})
			if err != nil {
				b.Fatal(err)
			}
			in, err := interp.RandomInputs(c, sizes, 1)
			if err != nil {
				b.Fatal(err)
			}
			reps := max(1, int(3*16384*16384/(tc.n*tc.n)))
			var r *Result
			for b.Loop() {
				r, err = Exec(context.Background(), c, sizes, in, Options{DType: tensor.F32, Reps: reps, Threads: tc.threads})
				if err != nil {
					b.Fatal(err)
				}
			}
			flops := 4 * float64(tc.n) * float64(tc.n) * float64(tc.d)
			b.ReportMetric(flops/r.Seconds/1e9, "GFLOP/s")
			b.ReportMetric(flops/r.CPUSeconds/1e9, "GFLOP/cpu-s")
			b.ReportMetric(r.Seconds, "kernel-s")
			b.ReportMetric(float64(r.MaxRSSKiB)/1024, "peak-RSS-MiB")
			b.ReportMetric(float64(r.WorkBytes)/(1<<20), "work-MiB")
		})
	}
}

func benchInputs(m int) (q, k, v []float32) {
	r := tensor.NewRand(1)
	fill := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.Uniform())
		}
		return s
	}
	return fill(benchE * benchP), fill(benchE * m), fill(benchE * m)
}

// BenchmarkNaiveGo is attention written as plain Go loops (scores, a stable
// softmax per query, the weighted sum), in float32.
func BenchmarkNaiveGo(b *testing.B) {
	const m = 4096
	q, k, v := benchInputs(m)
	av := make([]float32, benchE*benchP)
	s := make([]float32, m)
	for b.Loop() {
		for p := 0; p < benchP; p++ {
			mx := float32(math.Inf(-1))
			for j := 0; j < m; j++ {
				var acc float32
				for e := 0; e < benchE; e++ {
					acc += q[e*benchP+p] * k[e*m+j]
				}
				s[j] = acc
				mx = max(mx, acc)
			}
			var den float32
			for j := range s {
				s[j] = float32(math.Exp(float64(s[j] - mx)))
				den += s[j]
			}
			for f := 0; f < benchE; f++ {
				var acc float32
				for j := 0; j < m; j++ {
					acc += s[j] * v[f*m+j]
				}
				av[f*benchP+p] = acc / den
			}
		}
	}
	b.ReportMetric(attentionFlops(m)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkGonum3Pass is the 3-pass cascade with gonum's BLAS for the two
// products (QK = Kᵀ·Q, AV = V·A) and a softmax over each column in between.
func BenchmarkGonum3Pass(b *testing.B) {
	const m = 4096
	q, k, v := benchInputs(m)
	qk := make([]float32, m*benchP)
	av := make([]float32, benchE*benchP)
	gq := blas32.General{Rows: benchE, Cols: benchP, Stride: benchP, Data: q}
	gk := blas32.General{Rows: benchE, Cols: m, Stride: m, Data: k}
	gv := blas32.General{Rows: benchE, Cols: m, Stride: m, Data: v}
	gs := blas32.General{Rows: m, Cols: benchP, Stride: benchP, Data: qk}
	gav := blas32.General{Rows: benchE, Cols: benchP, Stride: benchP, Data: av}
	mx := make([]float32, benchP)
	den := make([]float32, benchP)
	for b.Loop() {
		blas32.Gemm(blas.Trans, blas.NoTrans, 1, gk, gq, 0, gs)
		for p := range mx {
			mx[p], den[p] = float32(math.Inf(-1)), 0
		}
		for j := 0; j < m; j++ {
			for p, x := range qk[j*benchP : (j+1)*benchP] {
				mx[p] = max(mx[p], x)
			}
		}
		for j := 0; j < m; j++ {
			row := qk[j*benchP : (j+1)*benchP]
			for p, x := range row {
				row[p] = float32(math.Exp(float64(x - mx[p])))
				den[p] += row[p]
			}
		}
		for j := 0; j < m; j++ {
			row := qk[j*benchP : (j+1)*benchP]
			for p := range row {
				row[p] /= den[p]
			}
		}
		blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, gv, gs, 0, gav)
	}
	b.ReportMetric(attentionFlops(m)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
