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
	prog, err := kernels.Load("attention_1pass")
	if err != nil {
		t.Fatal(err)
	}
	c := prog.Cascades[0]
	sizes, _, err := c.Bind(map[string]int64{"E": 8, "F": 8, "M": 64, "M0": 16, "P": 80})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := interp.RandomInputs(c, sizes, 4)
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

// TestThreadsRefused: a cascade whose statements do not all run per tile
// runs on one thread and says why.
func TestThreadsRefused(t *testing.T) {
	prog, err := kernels.Load("gemm")
	if err != nil {
		t.Fatal(err)
	}
	c := prog.Cascades[0]
	sizes, _, _ := c.Bind(map[string]int64{"K": 4, "M": 4, "N": 4})
	m, err := Generate(c, sizes, Options{DType: tensor.F32, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if m.Threads != 1 || !strings.Contains(m.SingleThreadWhy, "tiled iterate blocks") {
		t.Errorf("gemm with 2 threads: %d threads, %q", m.Threads, m.SingleThreadWhy)
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
		sizes, _, err := c.Bind(map[string]int64{"E": 16, "F": 16, "M": m, "M0": 16, "P": p})
		if err != nil {
			t.Fatal(err)
		}
		mod, err := Generate(c, sizes, Options{DType: tensor.F32})
		if err != nil {
			t.Fatal(err)
		}
		return mod.WorkBytes
	}
	if a, b, d := work(256, 256), work(4096, 256), work(256, 4096); a != b || a != d {
		t.Errorf("causal_1pass intermediates: %d bytes at M=P=256, %d at M=4096, %d at P=4096; want equal", a, b, d)
	}
	needTools(t)
	sizes, _, _ := c.Bind(map[string]int64{"E": 8, "F": 8, "M": 64, "M0": 16, "P": 80})
	in, _ := interp.RandomInputs(c, sizes, 2)
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
