package gpu

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/sim"
)

func cascade(t testing.TB, name string) *einsum.Cascade {
	t.Helper()
	if strings.HasSuffix(name, ".einsum") {
		src, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		p, err := einsum.Parse(name, src)
		if err != nil {
			t.Fatal(err)
		}
		return p.Cascades[0]
	}
	p, err := kernels.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return p.Cascades[0]
}

func simulate(t testing.TB, kernel, gpuName, mapping, shape string, sets ...string) (*Report, error) {
	t.Helper()
	a, err := arch.Load(gpuName, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadMapping(mapping, sets)
	if err != nil {
		return nil, err
	}
	return Simulate(cascade(t, kernel), a, m, parseShape(t, shape), "fp16")
}

func parseShape(t testing.TB, s string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(kv, "=")
		n := int64(0)
		for _, c := range v {
			n = n*10 + int64(c-'0')
		}
		out[k] = n
	}
	return out
}

func TestShippedGPUSpecs(t *testing.T) {
	for _, c := range []struct {
		name, path string
		tflops     float64
	}{{"a100-sxm4-80gb", "mma_sync", 312}, {"h100-sxm5-80gb", "wgmma", 989}, {"h200-sxm-141gb", "wgmma", 989}} {
		a, err := arch.Load(c.name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.GPU.Peak(c.path, "fp16") / 1e12; math.Abs(got-c.tflops) > 1 {
			t.Errorf("%s: %s fp16 peak %.1f TFLOP/s, want %.0f", c.name, c.path, got, c.tflops)
		}
	}
}

// The example command: the fields a user scripts against.
func TestSimulateFA3H100(t *testing.T) {
	r, err := simulate(t, "attention_1pass", "h100-sxm5-80gb", "fa3", "B=4,H=16,E=128,F=128,M=8192,P=8192")
	if err != nil {
		t.Fatal(err)
	}
	if r.LatencyS <= 0 || r.TFLOPS < 400 || r.TFLOPS > 989 || r.BoundBy == "" {
		t.Errorf("latency %g, %g TFLOP/s, bound by %q", r.LatencyS, r.TFLOPS, r.BoundBy)
	}
	for _, u := range unitNames {
		if _, ok := r.Utilization[u]; !ok {
			t.Errorf("no utilization of %s", u)
		}
	}
	want := 4 * 8192.0 * 8192 * 128 * 16 * 4
	if math.Abs(r.UsefulFLOPs-want)/want > 1e-12 {
		t.Errorf("useful FLOPs %g, want the published convention %g", r.UsefulFLOPs, want)
	}
	if r.Shape["M0"] != 176 || r.Occupancy.CTAsPerSM != 1 || r.Grid.CTAs != 64*64 {
		t.Errorf("M0 %d, %d CTAs/SM, %d CTAs", r.Shape["M0"], r.Occupancy.CTAsPerSM, r.Grid.CTAs)
	}
}

func TestCascadesTheMappingCannotExpress(t *testing.T) {
	for _, c := range []struct{ kernel, mapping, want string }{
		{"attention_3pass", "fa2", "takes 3 passes over M"},
		{"attention_2pass", "fa3", "takes 2 passes over M"},
		{"gemm", "fa2", "lacks"},
		{"attention_1pass", "standard", "has an iterate loop"},
	} {
		_, err := simulate(t, c.kernel, "h100-sxm5-80gb", c.mapping, "B=1,H=1,E=64,F=64,M=1024,P=1024")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s on %s: %v, want an error saying %q", c.kernel, c.mapping, err, c.want)
		}
	}
}

func TestMappingAndSpecErrors(t *testing.T) {
	for _, c := range []struct{ gpuName, mapping, shape, want string }{
		{"a100-sxm4-80gb", "fa3", "B=1,H=1,E=64,F=64,M=1024,P=1024", "fa3.yaml:19:6: mapping fa3 issues wgmma products, which a100-sxm4-80gb lacks"}, // no wgmma on Ampere
		{"h100-sxm5-80gb", "fa2", "B=1,H=1,E=512,F=512,M=1024,P=1024", "fa2.yaml:28:1: tiles: no row for head dimension E=512"},                      // head dim beyond the table
		{"h100-sxm5-80gb", "fa2", "B=1,H=1,E=64,F=64,M=1024,P=1024,M0=32", "conflicts"},                                                              // the mapping sets M0
		{"h100-sxm5-80gb", "fa2", "B=1,H=1,X=3,E=64,F=64,M=1024,P=1024", "X"},
	} {
		_, err := simulate(t, "attention_1pass", c.gpuName, c.mapping, c.shape)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s %s: %v, want %q", c.gpuName, c.mapping, c.shape, err, c.want)
		}
	}
	if _, err := simulate(t, "attention_1pass", "h100-sxm5-80gb", "fa2", "B=1,H=1,E=128,F=128,M=1024,P=1024", "block_n=512"); err == nil || !strings.Contains(err.Error(), "--set block_n=512: a 128×512 tile needs about") {
		t.Errorf("a 128×512 tile: %v, want a register error", err)
	}
	if _, err := LoadMapping("fa3", []string{"pingpong=maybe"}); err == nil || !strings.Contains(err.Error(), "true or false") {
		t.Errorf("pingpong=maybe: %v", err)
	}
}

// Each FA3 feature buys throughput; turning one off never makes it faster.
func TestFA3Switches(t *testing.T) {
	shape := "B=2,H=16,E=128,F=128,M=8192,P=8192"
	base, err := simulate(t, "attention_1pass", "h100-sxm5-80gb", "fa3", shape)
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []string{"pingpong=false", "intra_warpgroup_overlap=false", "warp_specialized=false"} {
		r, err := simulate(t, "attention_1pass", "h100-sxm5-80gb", "fa3", shape, set)
		if err != nil {
			t.Fatal(err)
		}
		if r.TFLOPS > base.TFLOPS*1.0001 {
			t.Errorf("%s: %.1f TFLOP/s, more than with it (%.1f)", set, r.TFLOPS, base.TFLOPS)
		}
		t.Logf("%s: %.1f TFLOP/s (all on: %.1f)", set, r.TFLOPS, base.TFLOPS)
	}
	off, err := simulate(t, "attention_1pass", "h100-sxm5-80gb", "fa3", shape, "pingpong=false", "intra_warpgroup_overlap=false")
	if err != nil {
		t.Fatal(err)
	}
	if off.TFLOPS > base.TFLOPS*0.95 {
		t.Errorf("no overlap of softmax and products at all: %.1f TFLOP/s, within 5%% of %.1f", off.TFLOPS, base.TFLOPS)
	}
}

// A causal mask skips the tiles above the diagonal whole; the diagonal
// ones cost a full tile, so latency falls to a bit over half.
func TestCausalSkipsTiles(t *testing.T) {
	shape := "B=2,H=16,E=128,F=128,M=8192,P=8192"
	for _, mp := range []string{"fa2", "fa3"} {
		dense, err := simulate(t, "attention_1pass", "h100-sxm5-80gb", mp, shape)
		if err != nil {
			t.Fatal(err)
		}
		causal, err := simulate(t, "causal_1pass.einsum", "h100-sxm5-80gb", mp, shape)
		if err != nil {
			t.Fatal(err)
		}
		ratio := causal.LatencyS / dense.LatencyS
		g := causal.Grid
		if g.TilesSkipped == 0 || g.TilesPartial == 0 || ratio < 0.5 || ratio > 0.65 {
			t.Errorf("%s: causal/dense latency %.3f, tiles %d full %d partial %d skipped", mp, ratio, g.TilesFull, g.TilesPartial, g.TilesSkipped)
		}
		if math.Abs(causal.UsefulFLOPs/dense.UsefulFLOPs-0.5) > 0.01 {
			t.Errorf("%s: causal useful FLOPs %.4f of dense, want about half", mp, causal.UsefulFLOPs/dense.UsefulFLOPs)
		}
	}
}

// Few CTAs leave SMs idle: throughput at one head of one batch is far
// below a full grid's.
func TestWaveQuantisation(t *testing.T) {
	small, err := simulate(t, "attention_1pass", "a100-sxm4-80gb", "fa2", "B=1,H=1,E=128,F=128,M=4096,P=4096")
	if err != nil {
		t.Fatal(err)
	}
	full, err := simulate(t, "attention_1pass", "a100-sxm4-80gb", "fa2", "B=4,H=16,E=128,F=128,M=4096,P=4096")
	if err != nil {
		t.Fatal(err)
	}
	if small.Grid.ActiveSMs != 32 || small.TFLOPS > full.TFLOPS/2 {
		t.Errorf("32 CTAs: %d SMs active, %.1f TFLOP/s against %.1f on a full grid", small.Grid.ActiveSMs, small.TFLOPS, full.TFLOPS)
	}
}

func TestStandardThreePass(t *testing.T) {
	r, err := simulate(t, "attention_3pass", "h100-sxm5-80gb", "standard", "B=2,H=16,E=128,F=128,M=4096,P=4096")
	if err != nil {
		t.Fatal(err)
	}
	fused, err := simulate(t, "attention_1pass", "h100-sxm5-80gb", "fa2", "B=2,H=16,E=128,F=128,M=4096,P=4096")
	if err != nil {
		t.Fatal(err)
	}
	// The score matrix makes several round trips through HBM.
	if r.HBMBytes < 4*2*16*4096*4096*2 || r.LatencyS < fused.LatencyS {
		t.Errorf("standard: %g HBM bytes, %g s against fa2's %g s", r.HBMBytes, r.LatencyS, fused.LatencyS)
	}
}

func TestDeterministic(t *testing.T) {
	a, err := simulate(t, "causal_1pass.einsum", "a100-sxm4-80gb", "fa2", "B=3,H=5,E=64,F=64,M=3000,P=3000")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := simulate(t, "causal_1pass.einsum", "a100-sxm4-80gb", "fa2", "B=3,H=5,E=64,F=64,M=3000,P=3000")
	if a.LatencyS != b.LatencyS || a.TFLOPS != b.TFLOPS {
		t.Errorf("two runs differ: %g %g", a.LatencyS, b.LatencyS)
	}
}

func FuzzParseMapping(f *testing.F) {
	for _, n := range []string{"fa2", "fa3", "standard"} {
		_, src, err := readMapping(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	c := cascade(f, "attention_1pass")
	h100, err := arch.Load("h100-sxm5-80gb", nil)
	if err != nil {
		f.Fatal(err)
	}
	shape := parseShape(f, "B=1,H=2,E=64,F=64,M=1024,P=1024")
	f.Fuzz(func(t *testing.T, src []byte) {
		m, err := ParseMapping("fuzz.yaml", src, nil)
		if err == nil && m == nil {
			t.Fatal("nil mapping without an error")
		}
		if err != nil {
			return
		}
		// A mapping that loads must simulate or fail cleanly.
		if _, err := Simulate(c, h100, m, shape, "fp16"); err != nil && strings.Contains(err.Error(), "runtime error") {
			t.Fatal(err)
		}
	})
}

func TestDtypes(t *testing.T) {
	c := cascade(t, "attention_1pass")
	shape := parseShape(t, "B=2,H=16,E=128,F=128,M=8192,P=8192")
	h100, _ := arch.Load("h100-sxm5-80gb", nil)
	a100, _ := arch.Load("a100-sxm4-80gb", nil)
	fa3, _ := LoadMapping("fa3", nil)
	fa2, _ := LoadMapping("fa2", nil)
	fp16, err := Simulate(c, h100, fa3, shape, "fp16")
	if err != nil {
		t.Fatal(err)
	}
	fp8, err := Simulate(c, h100, fa3, shape, "fp8")
	if err != nil {
		t.Fatal(err)
	}
	if fp8.TFLOPS <= fp16.TFLOPS {
		t.Errorf("fp8 %.1f TFLOP/s, not above fp16's %.1f", fp8.TFLOPS, fp16.TFLOPS)
	}
	if _, err := Simulate(c, a100, fa2, shape, "fp8"); err == nil || !strings.Contains(err.Error(), "--dtype fp8: a100-sxm4-80gb (specs/arch/a100-sxm4-80gb.yaml) has no mma_sync rate for it (it rates bf16, fp16, tf32)") {
		t.Errorf("fp8 on the A100: %v", err)
	}
	if _, err := Simulate(c, a100, fa2, shape, "int3"); err == nil || !strings.Contains(err.Error(), "--dtype") {
		t.Errorf("int3: %v", err)
	}
}

// TestHBMBoundFastForwards: at 64K keys the K/V tiles of the instances in
// flight overflow L2, every tile comes from HBM and the SM's HBM share
// binds. The key loop must still settle into a period and be stepped
// over: before the window on outstanding HBM tiles, the 3972 rounds of
// 372 steps each were simulated one by one (29.7M operations, seconds).
func TestHBMBoundFastForwards(t *testing.T) {
	for _, m := range []string{"fa2", "fa3"} {
		r, err := simulate(t, "attention_1pass", "h100-sxm5-80gb", m, "B=64,H=16,E=128,F=128,M=65536,P=65536")
		if err != nil {
			t.Fatal(err)
		}
		if r.SimulatedOps > 20000 || r.BoundBy != "hbm" {
			t.Errorf("%s: %d operations simulated, %d iterations stepped over, bound by %s; want under 20000, HBM-bound", m, r.SimulatedOps, r.SkippedIters, r.BoundBy)
		}
	}
}

// TestUnfusedFastForwards: the standard mapping's kernels run in waves
// that the engine steps over, however many there are.
func TestUnfusedFastForwards(t *testing.T) {
	r, err := simulate(t, "attention_3pass", "h100-sxm5-80gb", "standard", "B=64,H=12,E=64,F=64,M=4096,P=4096")
	if err != nil {
		t.Fatal(err)
	}
	if r.SimulatedOps > 5000 {
		t.Errorf("%d operations simulated, %d iterations stepped over; want under 5000", r.SimulatedOps, r.SkippedIters)
	}
}

// TestPersistentRuns: a persistent causal schedule built as rounds of alike
// CTAs gives the latency the CTA-by-CTA schedule gives, with fewer
// operations simulated.
func TestPersistentRuns(t *testing.T) {
	a, err := arch.Load("h100-sxm5-80gb", nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadMapping("fa3", nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := prepare(cascade(t, "causal_1pass.einsum"), a.GPU, m, parseShape(t, "B=16,H=16,E=128,F=128,M=4096,P=4096"), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.slots) != 1 {
		t.Fatalf("%d slots; want the persistent schedule's one", len(d.slots))
	}
	peak := a.GPU.SM.MMA[m.MMA]["fp16"]
	var got [2]*sim.Result
	for i := range got {
		b := d.builder(peak)
		s := b.programSlots(d.slots)
		if i == 1 {
			s = b.program(runs(d.slots[0]))
		}
		if got[i], err = sim.Run(s, sim.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if math.Abs(got[1].Seconds/got[0].Seconds-1) > 1e-12 || got[1].Issued >= got[0].Issued {
		t.Errorf("rounds: %g s, %d operations; CTA by CTA: %g s, %d", got[1].Seconds, got[1].Issued, got[0].Seconds, got[0].Issued)
	}
}
