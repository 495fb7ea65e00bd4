package lower

import (
	"math"
	"os"
	"testing"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/sim"
)

func loadFile(t testing.TB, path string) *einsum.Cascade {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := einsum.Parse(path, src)
	if err != nil {
		t.Fatal(err)
	}
	return p.Cascades[0]
}

// maskRun simulates a cascade on the FuseMax machine under the binding
// mapping at M = P = 16K, M0 = 256, in query groups of tileP.
func maskRun(t *testing.T, c *einsum.Cascade, tileP string) *Report {
	t.Helper()
	a, err := arch.Load("fusemax-cloud", nil)
	if err != nil {
		t.Fatal(err)
	}
	shape := map[string]int64{"B": 1, "H": 1, "E": 64, "F": 64, "M": 16384, "P": 16384, "M0": 256}
	var sets []string
	if tileP != "" {
		sets = []string{"tile.P=" + tileP}
	}
	m, err := LoadMapping("fusemax-binding", shape, sets)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Simulate(c, a, m, shape, Options{}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The targets: causal at most 0.55× dense, a 2K sliding window at
// most 0.2×, and both close to what the count of skipped tiles implies
// (the share of 256×256 tiles QK works on). What the count does not
// cover, the final division and the first group's loads, stays: the
// ratio is held to 2 points of the tile share (achieved: 0.6 and 1.3).
func TestMaskedTilesSkipped(t *testing.T) {
	dense, _ := load(t, "attention_1pass", "fusemax-cloud")
	for _, tc := range []struct {
		file  string
		limit float64
		share float64 // the exact share of 256-query × 256-key tiles with a defined point
	}{
		{"testdata/causal.einsum", 0.55, 64 * 65 / 2 / 4096.0},
		{"testdata/window.einsum", 0.2, (64*9 - 36) / 4096.0},
	} {
		for _, tileP := range []string{"", "4096"} {
			c := loadFile(t, tc.file)
			d, r := maskRun(t, dense, tileP), maskRun(t, c, tileP)
			ratio := r.LatencyS / d.LatencyS
			qk := r.Einsums[0]
			t.Logf("%s tile.P=%q: latency %.4g / %.4g = %.4f (tile share %.4f), traffic %.4g / %.4g B, energy ratio %.4f",
				tc.file, tileP, r.LatencyS, d.LatencyS, ratio, qk.WorkShare, r.TrafficBytes, d.TrafficBytes, r.EnergyPJ/d.EnergyPJ)
			if math.Abs(qk.WorkShare-tc.share) > 1e-12 {
				t.Errorf("%s: QK works on %.6f of its tiles, want %.6f", tc.file, qk.WorkShare, tc.share)
			}
			if ratio > tc.limit || math.Abs(ratio-tc.share) > 0.02 {
				t.Errorf("%s tile.P=%q: latency ratio %.4f, want at most %.2f and within 0.02 of %.4f", tc.file, tileP, ratio, tc.limit, tc.share)
			}
			for _, e := range r.Einsums {
				if e.Name != "AV" && e.WorkShare != qk.WorkShare {
					t.Errorf("%s: %s works on %.4f of its tiles, QK on %.4f: a skipped tile spares the whole iteration", tc.file, e.Name, e.WorkShare, qk.WorkShare)
				}
			}
			if tileP != "" && r.TrafficBytes >= d.TrafficBytes {
				t.Errorf("%s: traffic %g not below dense %g though whole K/V tiles go unread", tc.file, r.TrafficBytes, d.TrafficBytes)
			}
		}
	}
}

// A filter on the iterate variable skips the iterations it excludes:
// Toy Cascade 3 defines RZ by one statement at k == 0 and another after.
func TestMaskOnIterateVariable(t *testing.T) {
	c, a := load(t, "toy_cascade3", "fusemax-cloud")
	m, err := ParseMapping("toy.yaml", []byte("name: toy\ndefault: 1d\n"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Lower(c, a, m, map[string]int64{"K": 1000}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var shares []float64
	for _, e := range plan.Einsums {
		if e.Name == "RZ" {
			shares = append(shares, e.WorkShare)
		}
	}
	if len(shares) != 2 || shares[0] != 0.001 || shares[1] != 0.999 {
		t.Errorf("RZ's statements work on %v of the iterations, want [0.001 0.999]", shares)
	}
}

func TestCountPoints(t *testing.T) {
	m, p := &einsum.Rank{Name: "M"}, &einsum.Rank{Name: "P"}
	causal := []cond{{l: lin{k: map[*einsum.Rank]int64{m: 1, p: -1}}, op: einsum.LE}}                  // m - p <= 0
	band := append(causal, cond{l: lin{c: 10, k: map[*einsum.Rank]int64{m: 1, p: -1}}, op: einsum.GT}) // m + 10 > p
	notDiag := []cond{{l: lin{k: map[*einsum.Rank]int64{m: 1, p: -1}}, op: einsum.NE}}
	for _, tc := range []struct {
		conds []cond
		want  float64
	}{{causal, 5050}, {band, 955}, {notDiag, 9900}} {
		cs := newCset(tc.conds)
		if got := cs.count(ibox{{0, 99}, {0, 99}}); got != tc.want {
			t.Errorf("%v: %g points, want %g", tc.conds, got, tc.want)
		}
	}
	cs := newCset(band) // vars M, P
	if cs.any(ibox{{50, 59}, {0, 9}}) {
		t.Error("a block above the diagonal has a causal point")
	}
	if !cs.any(ibox{{0, 9}, {0, 9}}) {
		t.Error("a diagonal block has no point")
	}
}

// BenchmarkMaskedPoint is one sliding-window design point at 16K: the
// masks' cost analysis on top of a dense point's lowering and simulation.
func BenchmarkMaskedPoint(b *testing.B) {
	c := loadFile(b, "testdata/window.einsum")
	a, _ := arch.Load("fusemax-cloud", nil)
	shape := map[string]int64{"B": 1, "H": 1, "E": 64, "F": 64, "M": 16384, "P": 16384, "M0": 256}
	m, _ := LoadMapping("fusemax-binding", shape, nil)
	for b.Loop() {
		if _, err := Simulate(c, a, m, shape, Options{}, sim.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
