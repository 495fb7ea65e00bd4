package multi

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/specs"
)

func cascade(t testing.TB, name string) *einsum.Cascade {
	t.Helper()
	p, err := kernels.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return p.Cascades[0]
}

func simulate(t testing.TB, kernel, system string, sysSets []string, mapping string, mapSets []string, shape map[string]int64, opt Options) *Report {
	t.Helper()
	s, err := arch.LoadSystem(system, sysSets)
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadMapping(mapping, mapSets)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Simulate(cascade(t, kernel), s, m, shape, opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func attnShape(q, k int64) map[string]int64 {
	return map[string]int64{"B": 1, "H": 32, "E": 128, "F": 128, "P": q, "M": k}
}

// A ring step hides its transfer exactly when c ≥ F/B (Ring Attention §3):
// the exposed share is zero from F/B on and grows below it.
func TestRingHidesTransferAboveFOverB(t *testing.T) {
	s, _ := arch.LoadSystem("8xa100-nvlink", nil)
	fb := s.Device.PeakFLOPs / s.Links["nvlink"].Bandwidth // 1040 tokens
	prev := math.Inf(1)
	for _, f := range []float64{0.5, 0.8, 0.95, 1.0, 1.5} {
		c := int64(math.Ceil(f*fb/8)) * 8
		r := simulate(t, "attention_1pass", "8xa100-nvlink", nil, "ring", nil, attnShape(8*c, 8*c), Options{Ideal: true})
		exp := r.ExposedCommS / r.LatencyS
		if f >= 1 && exp > 1e-9 {
			t.Errorf("c = %d ≥ F/B = %.0f: exposed %.4f of latency, want 0", c, fb, exp)
		}
		if f < 1 && !(exp > 0 && exp < prev) {
			t.Errorf("c = %d < F/B: exposed %.4f, want positive and below %.4f", c, exp, prev)
		}
		if math.Abs(r.Speedup-8) > 1e-6 && f >= 1 {
			t.Errorf("c = %d: speedup %.4f, want 8 with the transfer hidden", c, r.Speedup)
		}
		prev = exp
	}
}

// Under a causal mask a ring's last device has every block below the
// diagonal; striping evens the work out.
func TestStripedBalancesCausalWork(t *testing.T) {
	n := int64(1 << 16)
	ring := simulate(t, "causal_attention_1pass", "8xa100-nvlink", nil, "ring", nil, attnShape(n, n), Options{Ideal: true})
	str := simulate(t, "causal_attention_1pass", "8xa100-nvlink", nil, "striped", []string{"mask_tile.P=128", "mask_tile.M=128"}, attnShape(n, n), Options{Ideal: true})
	first, last := ring.PerDevice[0].LiveWork, ring.PerDevice[7].LiveWork
	if math.Abs(first-0.5) > 0.01 || math.Abs(last-7.5) > 0.01 {
		t.Errorf("ring live block pairs: device 0 %.3f, device 7 %.3f; want about 0.5 and 7.5", first, last)
	}
	if str.Imbalance > 1.01 || ring.Imbalance < 1.8 {
		t.Errorf("imbalance: ring %.3f (want ≥ 1.8), striped %.3f (want ≤ 1.01)", ring.Imbalance, str.Imbalance)
	}
	if s := ring.LatencyS / str.LatencyS; s < 1.6 || s > 1.875 {
		t.Errorf("striped over ring %.3f, want between 1.6 and (8-0.5)/4", s)
	}
	// One device skips the same tiles: half the work, a speedup below 2 for the diagonal.
	if math.Abs(str.SingleDeviceS/ring.SingleDeviceS-1) > 1e-12 {
		t.Error("the one-device baseline depends on the layout")
	}
}

func TestTreeAndRingDecodeSteps(t *testing.T) {
	for _, d := range []int{2, 4, 8, 16} {
		sets := []string{fmt.Sprintf("count=%d", d)}
		shape := attnShape(1, 1<<20)
		tree := simulate(t, "attention_1pass", "8xh100-nvlink", sets, "tree", nil, shape, Options{Merge: cascade(t, "ring_merge")})
		bare := simulate(t, "attention_1pass", "8xh100-nvlink", sets, "tree", nil, shape, Options{})
		if d > 1 && !(tree.LatencyS > bare.LatencyS) {
			t.Errorf("D=%d: merging with ring_merge adds no time (%.6g vs %.6g s)", d, tree.LatencyS, bare.LatencyS)
		}
		ring := simulate(t, "attention_1pass", "8xh100-nvlink", sets, "ring", []string{"shard.P=replicated"}, shape, Options{})
		if tree.CommSteps != int(math.Log2(float64(d))) || ring.CommSteps != d-1 {
			t.Errorf("D=%d: steps tree %d ring %d, want %d and %d", d, tree.CommSteps, ring.CommSteps, int(math.Log2(float64(d))), d-1)
		}
		if ring.LatencyS <= tree.LatencyS {
			t.Errorf("D=%d: ring decode %.3g s not slower than tree %.3g s", d, ring.LatencyS, tree.LatencyS)
		}
		if m := ring.PerDevice[0].MemoryBytes / tree.PerDevice[0].MemoryBytes; math.Abs(m-2) > 0.01 {
			t.Errorf("D=%d: ring/tree memory %.3f, want 2 (one key/value block in flight)", d, m)
		}
	}
}

func TestUlyssesVolumeConstant(t *testing.T) {
	var base float64
	for _, d := range []int64{2, 4, 8, 16} {
		r := simulate(t, "attention_1pass", "8xa100-nvlink", []string{fmt.Sprintf("count=%d", d)}, "ulysses", nil, attnShape(4096*d, 4096*d), Options{})
		v := r.LinkBytes / float64(d) * float64(d) / float64(d-1)
		if base == 0 {
			base = v
		}
		if math.Abs(v/base-1) > 1e-12 {
			t.Errorf("D=%d: bytes per device × D/(D-1) = %.6g, want %.6g", d, v, base)
		}
		if r.CommSteps != 2*int(d-1) {
			t.Errorf("D=%d: %d messages per device, want 2(D-1)", d, r.CommSteps)
		}
	}
}

// A spatial accelerator's share is the single-device lowering of the same
// cascade: the ring over 4 of them is the 4× smaller problem, 4 times.
func TestLoweredDevice(t *testing.T) {
	r := simulate(t, "attention_1pass", "testdata/4xfusemax-ring.yaml", nil, "ring", nil, attnShape(16384, 16384), Options{})
	if !strings.HasPrefix(r.DeviceModel, "lowered: fusemax-cloud") {
		t.Fatalf("device model %q", r.DeviceModel)
	}
	if r.Speedup < 3 || r.Speedup > 4.2 {
		t.Errorf("4 FuseMax devices: speedup %.3f over one, want about 4", r.Speedup)
	}
	if r.LinkUtil["link"] <= 0 || r.PerDevice[0].MemoryBytes <= 0 {
		t.Errorf("link utilization %v, memory %v", r.LinkUtil, r.PerDevice[0].MemoryBytes)
	}
}

func TestSimulateErrors(t *testing.T) {
	shape := attnShape(8192, 8192)
	for _, tc := range []struct {
		kernel, system string
		sysSets        []string
		mapping        string
		mapSets        []string
		shape          map[string]int64
		opt            Options
		want           string
	}{
		{"attention_1pass", "8xa100-nvlink", nil, "ring", nil, attnShape(8190, 8190), Options{}, "specs/mapping/ring.yaml:7:24: M = 8190 does not divide among 8 devices (8xa100-nvlink)"},
		{"attention_1pass", "8xa100-nvlink", nil, "ring", []string{"group=3"}, shape, Options{}, "group = 3 does not divide"},
		{"attention_1pass", "8xa100-nvlink", nil, "ring", []string{"group=4", "heads=X"}, shape, Options{}, "the shape gives no size for X, the heads rank"},
		{"attention_1pass", "8xa100-nvlink", nil, "ring", []string{"group=3"}, shape, Options{}, "--set group=3: group = 3 does not divide the 8 devices of 8xa100-nvlink (give a divisor of 8)"},
		{"attention_1pass", "8xa100-nvlink", nil, "ring", []string{"schedule=spiral"}, shape, Options{}, "--set schedule=spiral: schedule must be ring, striped, tree or ulysses"},
		{"attention_3pass", "8xa100-nvlink", nil, "tree", nil, attnShape(1, 8192), Options{}, "has none"},
		{"attention_1pass", "8xa100-nvlink", []string{"count=6"}, "tree", nil, attnShape(1, 6144), Options{}, "specs/mapping/tree.yaml:7:11: tree merges over a power-of-two group, not 6"},
		{"attention_1pass", "tpuv4-4x4-torus", nil, "ring", nil, attnShape(16384, 16384), Options{}, "only the ideal mode"},
		{"attention_1pass", "8xa100-nvlink", nil, "ulysses", nil, map[string]int64{"B": 1, "H": 4, "E": 64, "F": 64, "P": 8192, "M": 8192}, Options{}, "specs/mapping/ulysses.yaml:8:8: heads H = 4 does not divide among 8"},
		{"causal_attention_1pass", "8xa100-nvlink", nil, "striped", []string{"mask_tile.P=1", "mask_tile.M=1"}, attnShape(65536, 65536), Options{}, "give a larger mask_tile"},
		{"attention_1pass", "8xa100-nvlink", []string{"count=512"}, "ring", nil, attnShape(1<<20, 1<<20), Options{Ideal: true}, "specs/mapping/ring.yaml:6:11: schedule ring over 512 devices unrolls 512² operations: at most 256 devices per group"},
		{"attention_1pass", "8xa100-nvlink", nil, "ring", nil, map[string]int64{"H": 32, "E": 128, "F": 128, "P": 8192}, Options{}, "no size for M"},
	} {
		s, err := arch.LoadSystem(tc.system, tc.sysSets)
		if err != nil {
			t.Fatal(err)
		}
		m, err := LoadMapping(tc.mapping, tc.mapSets)
		if err == nil {
			_, err = Simulate(cascade(t, tc.kernel), s, m, tc.shape, tc.opt)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s on %s under %s %v: error %v, want %q", tc.kernel, tc.system, tc.mapping, tc.mapSets, err, tc.want)
		}
	}
}

func TestMappingErrors(t *testing.T) {
	for _, tc := range []struct{ set, want string }{
		{"schedule=zigzag", "schedule must be ring, striped, tree or ulysses"},
		{"shard.P=ring", "shards its ranks as"},
		{"mask_tile.E=4", "not a sharded rank"},
		{"buffers=0", "at least 1"},
		{"colour=red", `unknown key "colour"`},
	} {
		_, err := LoadMapping("ring", []string{tc.set})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--set mapping.%s: error %v, want %q", tc.set, err, tc.want)
		}
	}
	if !IsSharding("ring") || IsSharding("fusemax-binding") {
		t.Error("IsSharding: ring shards, fusemax-binding does not")
	}
}

// The same inputs give the same report.
func TestDeterministic(t *testing.T) {
	a := simulate(t, "causal_attention_1pass", "32xa100-infiniband", nil, "striped", nil, attnShape(1<<18, 1<<18), Options{})
	b := simulate(t, "causal_attention_1pass", "32xa100-infiniband", nil, "striped", nil, attnShape(1<<18, 1<<18), Options{})
	if fmt.Sprint(*a) != fmt.Sprint(*b) {
		t.Error("two runs differ")
	}
}

func FuzzParseMapping(f *testing.F) {
	for _, n := range []string{"ring", "striped", "tree", "ulysses"} {
		_, src, _ := specs.Read("mapping", n)
		f.Add(src)
	}
	c := cascade(f, "attention_1pass")
	sys, err := arch.LoadSystem("8xa100-nvlink", nil)
	if err != nil {
		f.Fatal(err)
	}
	shape := map[string]int64{"B": 1, "H": 8, "E": 64, "F": 64, "P": 4096, "M": 4096}
	f.Fuzz(func(t *testing.T, src []byte) {
		m, err := ParseMapping("f.yaml", src, nil)
		if err != nil {
			return
		}
		if len(m.Shard) != 2 {
			t.Fatalf("accepted a mapping sharding %d ranks", len(m.Shard))
		}
		// A mapping that loads must simulate or fail cleanly.
		for _, opt := range []Options{{Ideal: true}, {}} {
			if _, err := Simulate(c, sys, m, shape, opt); err != nil && strings.Contains(err.Error(), "runtime error") {
				t.Fatal(err)
			}
		}
	})
}

func ExampleSimulate() {
	p, _ := kernels.Load("attention_1pass")
	s, _ := arch.LoadSystem("8xa100-nvlink", nil)
	m, _ := LoadMapping("ring", nil)
	r, _ := Simulate(p.Cascades[0], s, m, map[string]int64{"B": 1, "H": 32, "E": 128, "F": 128, "P": 65536, "M": 65536}, Options{Ideal: true})
	fmt.Printf("%s on %s: speedup %.2f, exposed communication %.3g s, %d steps\n", r.Schedule, r.System, r.Speedup, r.ExposedCommS, r.CommSteps)
	// Output: ring on 8xa100-nvlink: speedup 8.00, exposed communication 0 s, 7 steps
}

// The device model times the dense block; the original cascade keeps its
// filters.
func TestUnmaskedCopy(t *testing.T) {
	c := cascade(t, "causal_attention_1pass")
	d := unmasked(c)
	if !hasFilters(c) || hasFilters(d) {
		t.Fatalf("filters: original %v, copy %v", hasFilters(c), hasFilters(d))
	}
	shape := attnShape(1024, 1024)
	a, _ := MatrixFLOPs(c, shape)
	b, _ := MatrixFLOPs(d, shape)
	if a != b || a != 4*1024*1024*128*32 {
		t.Errorf("matrix FLOPs %g and %g, want %d", a, b, 4*1024*1024*128*32)
	}
	for _, e := range d.Einsums {
		for _, r := range e.Reads() {
			if d.Tensor(r.Tensor.Name) != r.Tensor {
				t.Errorf("%s reads a tensor of the original cascade", e.Name())
			}
		}
		if e.Loop != nil && !contains(d.Loops, e.Loop) {
			t.Errorf("%s is in a loop of the original cascade", e.Name())
		}
	}
	// A lowered FuseMax device runs the causal cascade's dense blocks.
	r := simulate(t, "causal_attention_1pass", "testdata/4xfusemax-ring.yaml", []string{"device.mapping=testdata/fusemax-binding-causal.yaml"}, "striped", []string{"mask_tile.P=256", "mask_tile.M=256"}, attnShape(16384, 16384), Options{})
	if r.Imbalance > 1.05 || r.Speedup < 3 {
		t.Errorf("striped on 4 FuseMax: imbalance %.3f, speedup %.3f", r.Imbalance, r.Speedup)
	}
}

func contains[T comparable](list []T, x T) bool {
	for _, y := range list {
		if y == x {
			return true
		}
	}
	return false
}
