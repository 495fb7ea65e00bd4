package llvm

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/einsum/interp"
	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/tensor"
)

// TestThreadsIdentical: splitting the tiles among threads gives the one-
// thread outputs bit for bit, with a number of threads that does not divide
// the tiles and more threads than tiles.
func TestThreadsIdentical(t *testing.T) {
	needTools(t)
	c, sizes, in := boundKernel(t, "attention_1pass", map[string]int64{"E": 8, "F": 8, "M": 64, "M0": 16, "P": 80}, 4)
	opts := Options{DType: tensor.F32, Tile: map[string]int64{"P": 16}}
	one, err := Exec(context.Background(), c, sizes, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{3, 7} { // 5 tiles: 3 does not divide them, 7 exceeds them
		opts.Threads = n
		m, err := Generate(c, sizes, opts)
		if err != nil || m.Threads != n {
			t.Fatalf("%d threads: module runs %d (%q, %v)", n, m.Threads, m.SingleThreadWhy, err)
		}
		got, err := Exec(context.Background(), c, sizes, in, opts)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got.Tensors["AV"].Data {
			if w := one.Tensors["AV"].Data[i]; math.Float64bits(v) != math.Float64bits(w) {
				t.Fatalf("%d threads: AV element %d = %v, one thread %v", n, i, v, w)
			}
		}
	}
}

// TestThreadsWithoutIterateBlock: a cascade without iterate blocks whose
// statements all loop over one rank and never meet across it (3-pass,
// 2-pass and sigmoid attention, GEMM over its rows) runs in a tile loop
// around all its statements, with intermediates one tile wide, on one
// worker and on several, with the untiled outputs bit for bit.
func TestThreadsWithoutIterateBlock(t *testing.T) {
	needTools(t)
	for _, tc := range []struct {
		kernel string
		shape  map[string]int64
		out    string
	}{
		{"attention_3pass", map[string]int64{"E": 8, "F": 8, "M": 80, "P": 48}, "AV"},
		{"attention_2pass", map[string]int64{"E": 8, "F": 8, "M": 80, "M0": 16, "P": 48}, "AV"},
		{"sigmoid_attention", map[string]int64{"E": 8, "F": 8, "M": 80, "P": 48}, "AV"},
		{"gemm", map[string]int64{"K": 8, "M": 80, "N": 24}, "Z"},
	} {
		c, sizes, in := boundKernel(t, tc.kernel, tc.shape, 5)
		untiled, err := Exec(context.Background(), c, sizes, in, Options{DType: tensor.F32, NoTile: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 3} {
			opts := Options{DType: tensor.F32, Tile: map[string]int64{"P": 16, "M": 16, "N": 16}, Threads: n}
			m, err := Generate(c, sizes, opts)
			if err != nil || m.Threads != n || untiled.WorkBytes > 0 && m.WorkBytes/int64(n) >= untiled.WorkBytes {
				t.Fatalf("%s on %d workers: module runs %d (%q, %v), %d B of intermediates per worker (untiled %d)",
					tc.kernel, n, m.Threads, m.SingleThreadWhy, err, m.WorkBytes/int64(n), untiled.WorkBytes)
			}
			got, err := Exec(context.Background(), c, sizes, in, opts)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range got.Tensors[tc.out].Data {
				if w := untiled.Tensors[tc.out].Data[i]; math.Float64bits(v) != math.Float64bits(w) {
					t.Fatalf("%s on %d workers: %s element %d = %v, untiled %v", tc.kernel, n, tc.out, i, v, w)
				}
			}
		}
	}
}

// TestThreadsRefused: a cascade whose statements do not all run per tile
// (linear attention's KV state sums over every key, for all queries at
// once; GEMM smaller than a tile) runs on one worker and says why.
func TestThreadsRefused(t *testing.T) {
	for _, tc := range []struct {
		kernel string
		shape  map[string]int64
	}{
		{"linear_attention", map[string]int64{"E": 8, "F": 8, "M": 512, "P": 512}},
		{"gemm", map[string]int64{"K": 4, "M": 4, "N": 4}},
	} {
		c, sizes, _ := boundKernel(t, tc.kernel, tc.shape, 1)
		m, err := Generate(c, sizes, Options{DType: tensor.F32, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		if m.Threads != 1 || !strings.Contains(m.SingleThreadWhy, "no rank all its statements split along") {
			t.Errorf("%s with 2 workers: %d, %q", tc.kernel, m.Threads, m.SingleThreadWhy)
		}
	}
}

// TestCausalRingAndThreads: causal 1-pass attention, whose QK and SLN are
// partly defined, keeps working memory independent of M and P (mask rings
// cleared per step, per-tile storage), agrees with the interpreter, and
// gives the same bits on three threads as on one.
func TestCausalRingAndThreads(t *testing.T) {
	var c *einsum.Cascade
	for _, x := range unseen(t).Cascades {
		if x.Name == "causal_1pass" {
			c = x
		}
	}
	if c == nil {
		t.Fatal("no causal_1pass in testdata/unseen.einsum")
	}
	work := func(m, p int64) int64 {
		return workBytes(t, c, map[string]int64{"E": 16, "F": 16, "M": m, "M0": 16, "P": p})
	}
	if a, b, d := work(256, 256), work(4096, 256), work(256, 4096); a != b || a != d {
		t.Errorf("causal_1pass intermediates: %d bytes at M=P=256, %d at M=4096, %d at P=4096; want equal", a, b, d)
	}
	needTools(t)
	sizes, in := bindRandom(t, c, map[string]int64{"E": 8, "F": 8, "M": 64, "M0": 16, "P": 80}, 2)
	want, err := interp.Run(c, sizes, in, interp.Options{DType: tensor.F64})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{DType: tensor.F32, Tile: map[string]int64{"P": 16}}
	one, err := Run(c, sizes, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, rel, err := deviation(one["AV"], want["AV"]); err != nil || rel > 1e-5 {
		t.Errorf("one thread vs interpreter: %g, %v", rel, err)
	}
	opts.Threads = 3
	three, err := Exec(context.Background(), c, sizes, in, opts)
	if err != nil || three.Threads != 3 {
		t.Fatalf("3 threads: %v (%d threads, %s)", err, three.Threads, three.SingleThreadWhy)
	}
	for i, v := range three.Tensors["AV"].Data {
		if w := one["AV"].Data[i]; math.Float64bits(v) != math.Float64bits(w) && !(math.IsNaN(v) && math.IsNaN(w)) {
			t.Fatalf("AV element %d: %v on 3 threads, %v on one", i, v, w)
		}
	}
}

// TestThreadsPartlyDefinedOutput: cascades whose output may be partly
// defined run on several threads (its mask shared, cleared before and
// checked after the threads) with the one-thread bits: grouped-query
// attention, whose AV is written through g*R + r; a filtered output left
// partly undefined (NaN where no statement writes); and the same output
// not declared partial, whose first undefined point is the error on both;
// and a read outside its tensor in the last tile, an error on both.
func TestThreadsPartlyDefinedOutput(t *testing.T) {
	needTools(t)
	gqa := kernelCascade(t, "gqa_attention")
	sum := func(decl string, last ...string) *einsum.Cascade {
		y := "Y[p: p < 37] = S[K, p]"
		if len(last) > 0 {
			y = last[0]
		}
		return parseCascade(t, `cascade c {
  ranks K, P
  input A[k, p]
  output `+decl+`
  S[0, p] = 0
  iterate k until k >= K {
    S[k+1, p] = S[k, p] + A[k, p]
  }
  `+y+`
}`)
	}
	cases := []struct {
		c       *einsum.Cascade
		shape   map[string]int64
		out     string
		wantErr string
	}{
		{gqa, map[string]int64{"E": 8, "F": 8, "G": 2, "R": 2, "M": 64, "M0": 16, "P": 80}, "AV", ""},
		{sum("partial Y[p]"), map[string]int64{"K": 4, "P": 80}, "Y", ""},
		{sum("Y[p]"), map[string]int64{"K": 4, "P": 80}, "Y", "output Y is not defined at Y[37]"},
		// Only the last of 256 tiles reads outside A: whichever worker
		// claims it fails the run with the kernel's message.
		{sum("partial Y[p]", "Y[p: p < 4096] = S[K, p] + A[0, p + 1]"), map[string]int64{"K": 4, "P": 4096}, "Y", "at A[0, 4096] is outside A's extent [4 4096]"},
	}
	for _, tc := range cases {
		sizes, in := bindRandom(t, tc.c, tc.shape, 3)
		opts := Options{DType: tensor.F32, Tile: map[string]int64{"P": 16}}
		one, err1 := Run(tc.c, sizes, in, opts)
		opts.Threads = 3
		m, err := Generate(tc.c, sizes, opts)
		if err != nil || m.Threads != 3 {
			t.Fatalf("%s on 3 threads: module runs %d (%q, %v)", tc.c.Name, m.Threads, m.SingleThreadWhy, err)
		}
		three, err3 := Run(tc.c, sizes, in, opts)
		if tc.wantErr != "" {
			for _, err := range []error{err1, err3} {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("%s: %v, want %q", tc.c.Name, err, tc.wantErr)
				}
			}
			continue
		}
		if err1 != nil || err3 != nil {
			t.Fatalf("%s: one thread %v, three %v", tc.c.Name, err1, err3)
		}
		nans := 0
		for i, v := range three[tc.out].Data {
			w := one[tc.out].Data[i]
			if math.IsNaN(w) {
				nans++
			}
			if math.Float64bits(v) != math.Float64bits(w) {
				t.Fatalf("%s: %s element %d = %v on 3 threads, %v on one", tc.c.Name, tc.out, i, v, w)
			}
		}
		if want := map[string]int{"AV": 0, "Y": 80 - 37}[tc.out]; nans != want {
			t.Errorf("%s: %d undefined (NaN) points, want %d", tc.c.Name, nans, want)
		}
	}
}

// TestThreadsPerWorkerStatements: a statement before the tile loop that
// writes an intermediate without looping over the hoisted rank runs on
// every worker (ALiBi's slopes, MoBA's block means, a constant seed), with
// the one-worker outputs bit for bit; one after the loop that sums over
// that rank still keeps the kernel on one worker.
func TestThreadsPerWorkerStatements(t *testing.T) {
	needTools(t)
	seeded := parseCascade(t, `cascade c {
  ranks K, P
  input A[k, p]
  output Y[p]
  C = 2
  S[0, p] = C
  iterate k until k >= K {
    S[k+1, p] = S[k, p] + A[k, p]
  }
  Y[p] = S[K, p]
}`)
	summed := parseCascade(t, `cascade c {
  ranks K, P
  input A[k, p]
  output Y[p], Z
  S[0, p] = 0
  iterate k until k >= K {
    S[k+1, p] = S[k, p] + A[k, p]
  }
  Y[p] = S[K, p]
  Z = S[K, p]
}`)
	for _, tc := range []struct {
		c     *einsum.Cascade
		shape map[string]int64
		out   string
	}{
		{kernelCascade(t, "alibi_causal"), map[string]int64{"E": 8, "F": 8, "H": 2, "M": 64, "M0": 16, "P": 80}, "AV"},
		{kernelCascade(t, "moba_topk"), map[string]int64{"E": 8, "F": 8, "M": 64, "M0": 16, "P": 80, "T": 2}, "AV"},
		{seeded, map[string]int64{"K": 4, "P": 80}, "Y"},
	} {
		sizes, in := bindRandom(t, tc.c, tc.shape, 6)
		opts := Options{DType: tensor.F32, Tile: map[string]int64{"P": 16}}
		one, err := Exec(context.Background(), tc.c, sizes, in, opts)
		if err != nil {
			t.Fatal(err)
		}
		opts.Threads = 3
		got, err := Exec(context.Background(), tc.c, sizes, in, opts)
		if err != nil || got.Threads != 3 {
			t.Fatalf("%s on 3 workers: ran on %d (%q, %v)", tc.c.Name, got.Threads, got.SingleThreadWhy, err)
		}
		for i, v := range got.Tensors[tc.out].Data {
			if w := one.Tensors[tc.out].Data[i]; math.Float64bits(v) != math.Float64bits(w) {
				t.Fatalf("%s on 3 workers: %s element %d = %v, one worker %v", tc.c.Name, tc.out, i, v, w)
			}
		}
	}
	sizes, _, _ := summed.Bind(map[string]int64{"K": 4, "P": 80})
	m, err := Generate(summed, sizes, Options{DType: tensor.F32, Tile: map[string]int64{"P": 16}, Threads: 2})
	if err != nil || m.Threads != 1 || !strings.Contains(m.SingleThreadWhy, "t.einsum:10:3 runs once over the whole of P") {
		t.Errorf("a sum over P after the tile loop: %d workers, %q, %v", m.Threads, m.SingleThreadWhy, err)
	}
}

// boundKernel is a built-in kernel's first cascade, its sizes at shape and
// random inputs from seed.
func boundKernel(t *testing.T, name string, shape map[string]int64, seed uint64) (*einsum.Cascade, map[string]int64, map[string]*tensor.Dense) {
	t.Helper()
	c := kernelCascade(t, name)
	sizes, in := bindRandom(t, c, shape, seed)
	return c, sizes, in
}

// kernelCascade is a built-in kernel's first cascade.
func kernelCascade(t *testing.T, name string) *einsum.Cascade {
	t.Helper()
	prog, err := kernels.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return prog.Cascades[0]
}

// parseCascade is the first cascade of src.
func parseCascade(t *testing.T, src string) *einsum.Cascade {
	t.Helper()
	p, err := einsum.Parse("t.einsum", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p.Cascades[0]
}

// bindRandom is c's sizes at shape and random inputs from seed.
func bindRandom(t *testing.T, c *einsum.Cascade, shape map[string]int64, seed uint64) (map[string]int64, map[string]*tensor.Dense) {
	t.Helper()
	sizes, _, err := c.Bind(shape)
	if err != nil {
		t.Fatal(err)
	}
	in, err := interp.RandomInputs(c, sizes, seed)
	if err != nil {
		t.Fatal(err)
	}
	return sizes, in
}
