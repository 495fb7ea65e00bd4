package lower

import "testing"

// The count pass: Timeloop's counts for a placed reference, and what each
// profile charges of them.
func TestCountPass(t *testing.T) {
	pl, err := binding1K.lower(t, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// B=1 H=2 E=64 M=P=1024, P1=4: QK evaluates B·H·E·M·P points; Q comes
	// from DRAM once (|Q| = 2·64·1024 words), is filled into the buffer
	// once and read from it once per key tile (M1 = 4); every point reads
	// it in a register file, filled as often.
	for _, tc := range []struct {
		einsum, tensor string
		output         bool
		level          int
		reads, upd     float64
		fills          float64
	}{
		{"QK", "Q", false, levelDRAM, 2 * 64 * 1024, 0, 0},
		{"QK", "Q", false, 1, 4 * 2 * 64 * 1024, 0, 2 * 64 * 1024},
		{"QK", "Q", false, 2, 2 * 64 * 1024 * 1024, 0, 2 * 64 * 1024 * 1024},
		// The output: an update per point, its first read of each element elided.
		{"QK", "QK", true, 2, 2*64*1024*1024 - 2*1024*1024, 2 * 64 * 1024 * 1024, 0},
		{"AV", "AV", true, levelDRAM, 0, 2 * 64 * 1024, 0},
	} {
		c := accessNamed(t, opNamed(t, pl, tc.einsum), tc.tensor, tc.output).cnt
		if got := [3]float64{c.Reads[tc.level], c.Updates[tc.level], c.Fills[tc.level]}; got != [3]float64{tc.reads, tc.upd, tc.fills} {
			t.Errorf("%s's %s at level %d: reads, updates, fills %v, want %v", tc.einsum, tc.tensor, tc.level, got, [3]float64{tc.reads, tc.upd, tc.fills})
		}
	}
	if got := pl.counts().Accesses; len(got) != 34 || got[0].Einsum != "QK" || got[0].Tensor != "Q" {
		t.Errorf("CountAccesses reads %d accesses off the plan, first %+v", len(got), got[0])
	}
}

// What each profile charges of one access's counts.
func TestProfileCharges(t *testing.T) {
	c := counts{Reads: []float64{10, 20, 30}, Updates: []float64{10, 2, 3}, Fills: []float64{0, 1, 4},
		PerInst: []struct{ Reads, Updates, Fills float64 }{{}, {}, {0.25, 0.125, 0.0625}},
		Wrap:    []struct{ Reads, Fills float64 }{{}, {5, 0}, {50, 50}}, PerInstWrap: []struct{ Reads, Fills float64 }{{}, {}, {0.5, 0.5}}}
	for _, tc := range []struct {
		profile string
		want    [4]float64 // global-buffer reads, writes; register-file reads, writes
		dram    float64    // an output's DRAM reads
	}{
		{ProfilePhysical, [4]float64{20, 3, 30, 7}, 10},
		{ProfileFuseMaxMicro24, [4]float64{25, 3, 0.75, 0.6875}, 0},
	} {
		pr, err := LoadProfile(tc.profile)
		if err != nil {
			t.Fatal(err)
		}
		gr, gw, rr, rw := pr.charged(c, 1, 2)
		if got := [4]float64{gr, gw, rr, rw}; got != tc.want {
			t.Errorf("%s charges %v, want %v", tc.profile, got, tc.want)
		}
		if got := pr.dramRead(c, true); got != tc.dram {
			t.Errorf("%s: an output whose DRAM reads equal its updates reads %g, want %g", tc.profile, got, tc.dram)
		}
		if got := pr.dramRead(c, false); got != 10 {
			t.Errorf("%s: an input reads %g from DRAM, want 10", tc.profile, got)
		}
	}
	if _, err := LoadProfile("frob"); err == nil {
		t.Error("an unknown profile passed")
	}
}
