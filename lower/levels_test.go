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
