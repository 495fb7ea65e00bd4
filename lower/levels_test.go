package lower

import (
	"strings"
	"testing"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/sim"
)

// An extra level between DRAM and the global buffer changes the result:
// every DRAM transfer is staged through it (its energy counted, its
// occupancy reported), the global buffer stays the innermost level, and a
// transfer too large for it is an error.
func TestExtraMemoryLevel(t *testing.T) {
	shape := map[string]int64{"B": 1, "H": 2, "E": 64, "F": 64, "M": 4096, "P": 4096}
	c, flat := load(t, "attention_1pass", "fusemax-cloud")
	deep, err := arch.Load("testdata/fusemax-cloud-l2.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := LoadMapping("fusemax-binding", shape, nil)
	r2, err := Simulate(c, flat, m, shape, Options{}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r3, err := Simulate(c, deep, m, shape, Options{}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l2 := r3.EnergyByAction["L2.read"] + r3.EnergyByAction["L2.write"]
	if l2 <= 0 || r3.EnergyPJ <= r2.EnergyPJ || r3.BufferPeakBytes["L2"] <= 0 || r3.BufferNeedBytes["L3"] != r2.BufferNeedBytes["L3"] {
		t.Errorf("with L2: energy %g (L2 %g) vs %g, L2 peak %g, L3 state %g vs %g", r3.EnergyPJ, l2, r2.EnergyPJ,
			r3.BufferPeakBytes["L2"], r3.BufferNeedBytes["L3"], r2.BufferNeedBytes["L3"])
	}
	small, _ := arch.Load("testdata/fusemax-cloud-l2.yaml", []string{"memory.L2.capacity=1KiB"})
	if _, err := Simulate(c, small, m, shape, Options{}, sim.Options{}); err == nil || !strings.Contains(err.Error(), "through L2, which holds 1024") {
		t.Errorf("a 1 KiB L2: got %v, want an error naming L2", err)
	}
	// A global buffer nothing is kept in is reported.
	m, _ = LoadMapping("fusemax-binding", shape, []string{"onchip=[]", "derive={}", "tile.P=256"})
	plan, err := Lower(c, deep, m, shape, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(plan.Warnings, "\n"); !strings.Contains(w, "memory level L3 is unused") {
		t.Errorf("warnings %q do not report the unused L3", w)
	}
}

// A mapping that places tensors and loops at the L2 between DRAM and the
// global buffer: K and V are read from DRAM once per head instead of once
// per query group, each level's state, traffic and capacity follow the
// placement, and a bandwidth makes the level a shared unit.
func TestPlacedLevel(t *testing.T) {
	shape := map[string]int64{"B": 1, "H": 2, "E": 64, "F": 64, "M": 4096, "P": 4096}
	c, _ := load(t, "attention_1pass", "fusemax-cloud")
	groups := []string{"tile.P=1024", "derive={}"} // four query groups
	atL2 := append(append([]string{}, groups...), "levels={L2: {keep: [BK, BV], loops: [P, M1]}}")
	const MiB = 1 << 20
	// |Q| = |K| = |V| = |AV| = B·H·M·E·2 B = 1 MiB.
	for _, tc := range []struct {
		name            string
		archSet, mapSet []string
		traffic, l2     float64 // DRAM bytes; bytes read from and written to L2
		l2need          float64
		err             string
	}{
		// Staged: every DRAM byte is written into L2 and read out; K and V
		// are read once per group.
		{"staged", nil, groups, 10 * MiB, 20 * MiB, 0, ""},
		// Kept: K and V fill L2 once (2 MiB) and are read from it once per
		// group (8 MiB); Q and AV are staged (2 × 2 MiB).
		{"kept at L2", nil, atL2, 4 * MiB, 14 * MiB, 1 * MiB, ""},
		// P at DRAM is still innermost and irrelevant to K: the same reuse.
		{"only the iterate loop at L2", nil, append(append([]string{}, groups...), "levels={L2: {keep: [BK, BV], loops: [M1]}}"), 4 * MiB, 14 * MiB, 1 * MiB, ""},
		{"too small", []string{"memory.L2.capacity=512KiB"}, atL2, 0, 0, 0, "levels.L2: the mapping keeps 1048576 bytes in L2, which holds 524288"},
		{"levels out of order", nil, append(append([]string{}, groups...), "levels={L2: {loops: [B]}}"), 0, 0, 0, "QK's loop H runs at DRAM inside a loop at L2"},
		{"not a middle level", nil, append(append([]string{}, groups...), "levels={L3: {keep: [BK]}}"), 0, 0, 0, "levels.L3: L3 is not a memory level between DRAM and the global buffer L3 of fusemax-cloud-l2 (those are: L2)"},
		{"not an outer loop", nil, append(append([]string{}, groups...), "levels={L2: {loops: [E]}}"), 0, 0, 0, "levels.L2.loops: E is not an outer loop of the mapping"},
	} {
		a, err := arch.Load("testdata/fusemax-cloud-l2.yaml", tc.archSet)
		if err != nil {
			t.Fatal(err)
		}
		m, err := LoadMapping("fusemax-binding", shape, tc.mapSet)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Simulate(c, a, m, shape, Options{}, sim.Options{})
		if !wantErr(t, tc.name, err, tc.err) {
			continue
		}
		if r.TrafficBytes != tc.traffic || r.LevelTrafficBytes["L2"] != tc.l2 || r.BufferNeedBytes["L2"] != tc.l2need {
			t.Errorf("%s: DRAM %g B, L2 %g B, L2 state %g B; want %g, %g, %g", tc.name, r.TrafficBytes, r.LevelTrafficBytes["L2"], r.BufferNeedBytes["L2"], tc.traffic, tc.l2, tc.l2need)
		}
		if tc.l2need > 0 && r.BufferPeakBytes["L2"] < tc.l2need {
			t.Errorf("%s: L2 peak %g below the state it keeps", tc.name, r.BufferPeakBytes["L2"])
		}
	}
	// A bandwidth makes L2 a unit: its 10 MiB of kept traffic at 100 GiB/s
	// bound the latency, and its port is reported busy.
	a, _ := arch.Load("testdata/fusemax-cloud-l2.yaml", []string{"memory.L2.bandwidth=100GiB/s"})
	m, _ := LoadMapping("fusemax-binding", shape, atL2)
	r, err := Simulate(c, a, m, shape, Options{}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if floor := 10 * MiB / (100 * float64(1<<30)); r.LatencyS < floor || r.Utilization["L2 port"] < 0.5 {
		t.Errorf("L2 at 100 GiB/s: latency %g s (at least %g), port utilization %g", r.LatencyS, floor, r.Utilization["L2 port"])
	}
	plan, err := Lower(c, a, m, shape, Options{})
	if err != nil {
		t.Fatal(err)
	}
	text, _ := FormatPass(plan, "place")
	if !strings.Contains(text, "reads BK at DRAM L2 L3 RF; 262144 words in L2; 16384 words in L3") {
		t.Errorf("the place pass does not show BK kept at L2:\n%s", text)
	}
	m, _ = LoadMapping("fusemax-binding", shape, []string{"levels={L2: {}}"})
	if plan, err := Lower(c, a, m, shape, Options{}); err != nil || !strings.Contains(strings.Join(plan.Warnings, "\n"), "levels.L2 keeps no tensor and runs no loop; ignored") {
		t.Errorf("an empty levels entry is not reported: %v", err)
	}
	text, _ = FormatPass(plan, "tile")
	if !strings.Contains(text, "einsum QK: 128 tile operations; DRAM[B=1 H=2] L2[P=4 M1=16] L3[P=4 E=64 M0=1] spatial[P=256 M0=256]") {
		t.Errorf("the tile pass does not show the loops at L2:\n%s", text)
	}
}
