package lower

import (
	"strings"
	"testing"

	"github.com/fusemax/fusemax/sim"
	"github.com/fusemax/fusemax/workload"
)

// A capacity override changes FLAT's result: its spill shares were
// measured at 32 MiB (spill_at), and a smaller buffer spills more, a
// larger one less; the state above capacity is explained (which tensors,
// how much). A mapping with no spill share gets an error instead.
func TestCapacityOverrideChangesResult(t *testing.T) {
	xlm, _ := workload.Lookup("XLM")
	shape := xlm.Shape(16384)
	traffic := map[string]float64{}
	for _, capacity := range []string{"16MiB", "24MiB", "32MiB"} {
		c, a := load(t, "attention_3pass", "flat-cloud", "memory.L3.capacity="+capacity)
		m, err := LoadMapping("flat", shape, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Simulate(c, a, m, shape, Options{}, sim.Options{})
		if err != nil {
			t.Fatal(err)
		}
		traffic[capacity] = r.TrafficBytes
		w := strings.Join(r.Warnings, "\n")
		if !strings.Contains(w, "spills to DRAM") || !strings.Contains(w, "QK 32 MiB") {
			t.Errorf("%s: the overflow is not explained: %q", capacity, w)
		}
	}
	if !(traffic["16MiB"] > traffic["24MiB"] && traffic["24MiB"] > traffic["32MiB"]) {
		t.Errorf("traffic by capacity %v: want less with more buffer", traffic)
	}
	c, a := load(t, "attention_1pass", "fusemax-cloud", "memory.L3.capacity=64KiB")
	m, _ := LoadMapping("fusemax-binding", shape, []string{"tile.P=P"})
	if _, err := Lower(c, a, m, shape, Options{}); err == nil || !strings.Contains(err.Error(), "which holds 65536") {
		t.Errorf("binding in 64 KiB: got %v, want a capacity error", err)
	}
}
