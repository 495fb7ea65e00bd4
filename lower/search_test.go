package lower

import (
	"strings"
	"testing"

	"github.com/fusemax/fusemax/sim"
)

// XLM's FFN2 weights (8192×2048 words, 32 MiB) fit neither buffer: with
// the M blocks outside the N blocks (the artifact's loop order, MODEL.md
// §8), B is re-read once per M block, so the search must take the largest
// M block that fits beside a narrow block of B (one array-width of
// columns), which is what the artifact's mapper settled on.
func TestSearchBlocksOversizedWeights(t *testing.T) {
	c, _ := load(t, "gemm", "fusemax-cloud")
	shape := map[string]int64{"M": 65536, "K": 8192, "N": 2048}
	for _, tc := range []struct {
		arch, want string
		mBlock     float64
	}{
		{"fusemax-cloud", "tile.M=2d.cols * 2,tile.N=N / 8", 512}, // 16 MiB: 4 Mi words of A + 2 Mi of B
		{"flat-cloud", "tile.M=2d.cols * 4,tile.N=N / 8", 1024},   // 32 MiB: 8 Mi words of A + 2 Mi of B
	} {
		_, a := load(t, "gemm", tc.arch)
		m, err := LoadMapping("gemm", shape, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Simulate(c, a, m, shape, Options{}, sim.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(r.Searched, ","); got != tc.want {
			t.Errorf("%s: search chose %s, want %s", tc.arch, got, tc.want)
		}
		// A and Z once, B once per M block.
		want := 2 * (65536*8192 + 65536/tc.mBlock*8192*2048 + 65536*2048)
		if r.TrafficBytes != want {
			t.Errorf("%s: traffic %.0f, want %.0f", tc.arch, r.TrafficBytes, want)
		}
	}
	// Weights that fit whole beside a block of A are read once: the
	// compulsory traffic (BERT's FFN1 on FuseMax's machine).
	shape = map[string]int64{"M": 65536, "K": 768, "N": 3072}
	_, a := load(t, "gemm", "fusemax-cloud")
	m, err := LoadMapping("gemm", shape, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Simulate(c, a, m, shape, Options{}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := 2.0 * (65536*768 + 768*3072 + 65536*3072); r.TrafficBytes != want {
		t.Errorf("BERT FFN1: traffic %.0f, want the compulsory %.0f (search chose %v)", r.TrafficBytes, want, r.Searched)
	}
}

func TestScheduleSpecErrors(t *testing.T) {
	shape := map[string]int64{"B": 1, "H": 1, "E": 64, "F": 64, "M": 1024, "P": 1024}
	for _, tc := range []struct {
		name, kernel, src, want string
	}{
		{"overfull buffer", "gemm", `name: g
tile: {M: 2d.cols}
offchip: [A, B, Z]
onchip: [A, B]
einsums: {Z: 2d}
`, "which holds"},
		{"phases of an iterate loop", "attention_1pass", `name: p
instances: [B, H]
sizes: {M0: 2d.rows}
offchip: [Q, K, V, AV]
onchip: [Q, BK, BV, RM, RD, RNV]
phases: {QK: 0, AV: 1}
einsums: {QK: 2d, LM: 2d, SLN: 2d, SLD: 2d, SLNV: 2d, RM: 1d, PRM: 1d, SPD: 1d, RD: 1d, SPNV: 1d, RNV: 1d, AV: 1d}
`, "cannot be split across phases"},
		{"bad iterations", "gemm", `name: g
iterations: sometimes
einsums: {Z: 2d}
`, "t.yaml:2:13: mapping.iterations must be pipelined or one-at-a-time"},
		{"empty search list", "gemm", `name: g
einsums: {Z: 2d}
search: {tile.M: []}
`, "t.yaml:3:18: search.tile.M must be a non-empty list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, a := load(t, tc.kernel, "fusemax-cloud")
			sh := shape
			if tc.kernel == "gemm" {
				sh = map[string]int64{"M": 65536, "K": 8192, "N": 2048}
			}
			m, err := ParseMapping("t.yaml", []byte(tc.src), sh, nil)
			if err == nil {
				_, err = Simulate(c, a, m, sh, Options{}, sim.Options{})
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestConfigAndProfileErrors(t *testing.T) {
	// A configuration's accounting adjustments live in the profile.
	if _, err := ParseConfig("c.yaml", []byte("kernel: gemm\narch: flat-cloud\nmapping: gemm\nprofile_set: {thrifty: [a=1]}\n")); err == nil ||
		!strings.Contains(err.Error(), `c.yaml:4:1: config: unknown key "profile_set"`) {
		t.Errorf("profile_set error: %v", err)
	}
	c, a := load(t, "gemm", "flat-cloud")
	shape := map[string]int64{"M": 256, "K": 256, "N": 256}
	m, err := LoadMapping("gemm", shape, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Simulate(c, a, m, shape, Options{EnergyProfile: "thrifty"}, sim.Options{}); err == nil || !strings.Contains(err.Error(), `unknown accounting profile: no profiles spec "thrifty"`) || strings.Contains(err.Error(), "search choice") {
		t.Errorf("energy profile error: %v", err)
	}
	// The physical profile charges every PE's register-file accesses.
	art, err := Simulate(c, a, m, shape, Options{EnergyProfile: ProfileFuseMaxMicro24}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	phys, err := Simulate(c, a, m, shape, Options{}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pes := art.Einsums[0].PEFrac * 65536
	if r := phys.EnergyByAction["2d.rf.read"] / art.EnergyByAction["2d.rf.read"]; r != pes {
		t.Errorf("physical/artifact register-file reads = %g, want %g (every PE the GEMM uses)", r, pes)
	}
}
