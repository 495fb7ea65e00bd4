package lower

import (
	"strings"
	"testing"
)

// The place pass: the levels that keep each reference and its
// global-buffer footprint.
func TestPlacePass(t *testing.T) {
	for _, tc := range []struct {
		name, pt       string
		einsum, tensor string
		output         bool
		at             string // the keepers
		foot           float64
	}{
		{"an off-chip input through the buffer", "binding", "QK", "Q", false, "DRAM L3 RF", 4 * 256 * 64},
		{"a view of an input", "binding", "QK", "BK", false, "DRAM L3 RF", 256 * 64},
		{"an intermediate stays in registers", "binding", "QK", "QK", true, "RF", 0},
		{"on-chip state", "binding", "RM", "RM", true, "L3 RF", 4 * 256},
		{"an off-chip output", "binding", "AV", "AV", true, "DRAM RF", 0},
		{"from the producer's registers", "cascade", "LM", "QK", false, "RF", 0},
		{"staged: read from the copy an earlier pass made", "flat", "SN", "QK", false, "L3 RF", -1},
		{"FLAT keeps QK on chip at 1K", "flat", "GM", "QK", false, "L3 RF", -1},
	} {
		pt := map[string]point{"binding": binding1K, "cascade": cascade1K, "flat": flat1K}[tc.pt]
		pl, err := pt.lower(t, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		x := accessNamed(t, opNamed(t, pl, tc.einsum), tc.tensor, tc.output)
		var at []string
		for _, k := range x.keepers {
			at = append(at, pl.lw.levelNames()[k])
		}
		if got := strings.Join(at, " "); got != tc.at || tc.foot >= 0 && x.foot != tc.foot {
			t.Errorf("%s: %s's %s at %s with %g words in L3, want %s with %g", tc.name, tc.einsum, tc.tensor, got, x.foot, tc.at, tc.foot)
		}
	}
	// The state: Q and RNV per query row, RM and RD per query, BK and BV.
	pl, err := binding1K.lower(t, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := float64(2 * (4*256*(64+64+2) + 2*256*64)); pl.Need["L3"] != want {
		t.Errorf("binding keeps %g B in L3, want %g", pl.Need["L3"], want)
	}
}

func accessNamed(t *testing.T, p *eplan, tensor string, output bool) *access {
	t.Helper()
	for _, x := range p.acc {
		if x.name == tensor && x.output == output {
			return x
		}
	}
	t.Fatalf("%s has no %s access to %s", p.e.Name(), map[bool]string{true: "output", false: "read"}[output], tensor)
	return nil
}
