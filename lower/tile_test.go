package lower

import (
	"fmt"
	"testing"
)

// The tile pass: derived sizes, the outer groups and each Einsum's nest.
// P1's state is 256·P1·(E+F+2) + 2·256·E words of 2 B (Q, RNV, RM, RD per
// query; BK and BV), so 16 MiB holds P1 ≤ 251 and 4 MiB P1 ≤ 62: the
// largest divisors of P/256 = 256 below are 128 and 32.
func TestTilePass(t *testing.T) {
	big := map[string]int64{"B": 1, "H": 1, "E": 64, "F": 64, "M": 65536, "P": 65536}
	for _, tc := range []struct {
		name    string
		pt      point
		derived string // P1
		groups  string
		einsum  string
		nest    string
		inst    int64
		err     string
	}{
		{"P1 fills the buffer at 1K", binding1K, "map[P1:4]", "[{B 1 0 false false} {H 2 0 false false} {P 1 0 false false}]",
			"QK", "DRAM[B=1 H=2 P=1 M1=4] L3[P=4 E=64 M0=1] spatial[P=256 M0=256]", 8, ""},
		{"the last Einsum is outside the iterate loop", binding1K, "map[P1:4]", "[{B 1 0 false false} {H 2 0 false false} {P 1 0 false false}]",
			"AV", "DRAM[B=1 H=2 P=1] L3[P=4 F=64] spatial[P=256]", 2, ""},
		{"64K: P1 is the largest divisor that fits", point{kernel: "attention_1pass", arch: "fusemax-cloud", mapping: "fusemax-binding", shape: big}, "map[P1:128]",
			"[{B 1 0 false false} {H 1 0 false false} {P 2 0 false false}]", "QK", "DRAM[B=1 H=1 P=2 M1=256] L3[P=128 E=64 M0=1] spatial[P=256 M0=256]", 512, ""},
		{"a smaller buffer gives a smaller P1", withArchSet(point{kernel: "attention_1pass", arch: "fusemax-cloud", mapping: "fusemax-binding", shape: big}, "memory.L3.capacity=4 MiB"),
			"map[P1:32]", "[{B 1 0 false false} {H 1 0 false false} {P 8 0 false false}]", "QK", "DRAM[B=1 H=1 P=8 M1=256] L3[P=32 E=64 M0=1] spatial[P=256 M0=256]", 2048, ""},
		{"nothing fits", withArchSet(binding1K, "memory.L3.capacity=1 KiB"), "", "", "", "", 0, "no P1 fits L3: even P1=1 keeps 132096 bytes in L3, which holds 1024"},
		{"a tile that does not divide", withSet(binding1K, "tile.P=1000"), "", "", "", "", 0, "tile.P: a group of 1000 does not divide P=1024"},
	} {
		pl, err := tc.pt.lower(t, Options{})
		if !wantErr(t, tc.name, err, tc.err) {
			continue
		}
		if got := fmt.Sprint(pl.Derived); got != tc.derived {
			t.Errorf("%s: derived %s, want %s", tc.name, got, tc.derived)
		}
		if got := fmt.Sprint(pl.lw.groups); got != tc.groups {
			t.Errorf("%s: groups %s, want %s", tc.name, got, tc.groups)
		}
		p := opNamed(t, pl, tc.einsum)
		if got := pl.lw.nestText(p); got != tc.nest || p.nInst != tc.inst {
			t.Errorf("%s: %s nest %s with %d tile operations, want %s with %d", tc.name, tc.einsum, got, p.nInst, tc.nest, tc.inst)
		}
	}
}
