package lower

import (
	"testing"
)

// Timeloop's partition sizes wrap at 2^64 (MODEL.md §9.6): RNV of binding
// (B·F·H·M1·P elements, global-buffer tile F·P1·256) keeps its elision at
// 64K, keeps a third of it for BERT at 256K (3·2^42 × 2^21 wraps to 2^63)
// and loses all of it for TrXL at 256K (2^44 × 2^21 = 2^65).
func TestPartitionWrap(t *testing.T) {
	rnv := func(h, seq int64) (*nest, func(string) bool) {
		const b, f, p1 = 64, 64, 128
		m1 := seq / 256
		n := &nest{levels: 3, loops: []nloop{
			{rank: "B", bound: b}, {rank: "H", bound: h}, {rank: "P2", bound: seq / 256 / p1}, {rank: "M1", bound: m1},
			{rank: "P1", bound: p1, level: 1}, {rank: "F", bound: f, level: 1},
			{rank: "P", bound: 256, level: 1, spatial: true},
		}}
		return n, func(string) bool { return true }
	}
	for _, tc := range []struct {
		name   string
		h, seq int64
		excess float64 // the share of |RNV| no longer elided
	}{
		{"BERT 64K", 12, 64 << 10, 0},
		{"BERT 256K", 12, 256 << 10, 2.0 / 3},
		{"TrXL 256K", 16, 256 << 10, 1},
		{"T5 1M", 8, 1 << 20, 1},
	} {
		n, rel := rnv(tc.h, tc.seq)
		size := n.tile(0, rel)
		c := n.count([]int{1, 2}, rel, true)
		if got := c.Wrap[1].Reads / size; got != tc.excess {
			t.Errorf("%s: wrapped reads = %g of |RNV|, want %g", tc.name, got, tc.excess)
		}
		if c.Wrap[1].Fills != 0 {
			t.Errorf("%s: the outermost keeper has no fills to wrap, got %g", tc.name, c.Wrap[1].Fills)
		}
		// The counts the physical profile and the traffic use stay exact:
		// every element is written once and, elided, never read.
		if c.Reads[1] != 0 || c.Updates[1] != size {
			t.Errorf("%s: global-buffer reads %g, updates %g, want 0, %g", tc.name, c.Reads[1], c.Updates[1], size)
		}
	}
}
