package sim

import (
	"math"
	"strings"
	"testing"
)

// pipeline builds a two-array, one-channel schedule shaped like FuseMax's
// binding: groups of m tiles; per tile a load (prefetched one tile ahead,
// two buffers), work on array 0, a recurrence on array 1, more work on
// array 0; per group a final op on array 1 and a write-back.
func pipeline(g, m int64, a, b, c, load float64) *Schedule {
	s := &Schedule{ClockHz: 1e9, Units: []Unit{{Name: "2d"}, {Name: "1d"}, {Name: "DRAM", Memory: true}},
		Levels: []string{"L3"}, EnergyPJ: map[string]float64{"mac": 1, "dram": 2}}
	root := &Loop{Name: "root", Count: 1}
	grp := &Loop{Name: "group", Count: g}
	tile := &Loop{Name: "tile", Count: m}
	ld := &Op{Name: "load", Unit: 2, Cycles: load, PEFrac: 1, Stage: -1, Bytes: 100, Actions: map[string]float64{"dram": 1},
		Alloc: []Hold{{Level: 0, Bytes: 100}}}
	x := &Op{Name: "X", Einsum: "X", Unit: 0, Cycles: a, PEFrac: 1, Actions: map[string]float64{"mac": a}, Free: []Hold{{Level: 0, Bytes: 100}}}
	r := &Op{Name: "R", Einsum: "R", Unit: 1, Cycles: b, PEFrac: 0.5}
	y := &Op{Name: "Y", Einsum: "Y", Unit: 0, Cycles: c, PEFrac: 1}
	fin := &Op{Name: "F", Einsum: "F", Unit: 1, Cycles: b, PEFrac: 1}
	st := &Op{Name: "store", Unit: 2, Cycles: load / 2, PEFrac: 1, Stage: 1, Bytes: 50}
	ld.Deps = []Dep{{Op: x, Loop: tile, Back: 2}}
	x.Deps = []Dep{{Op: ld, Loop: tile}}
	r.Deps = []Dep{{Op: x, Loop: tile}, {Op: r, Loop: tile, Back: 1}}
	y.Deps = []Dep{{Op: r, Loop: tile}}
	fin.Deps = []Dep{{Op: r, Loop: grp}, {Op: y, Loop: grp}}
	st.Deps = []Dep{{Op: fin, Loop: grp}}
	tile.Body = []Item{ld, x, r, y}
	grp.Body = []Item{tile, fin, st}
	root.Body = []Item{grp}
	s.Root = root
	return s
}

func TestFastForwardMatchesFull(t *testing.T) {
	cases := []struct {
		g, m          int64
		a, b, c, load float64
	}{
		{1, 1, 3, 2, 1, 1},
		{3, 5, 3, 2, 1, 1},
		{40, 50, 3, 2, 1, 1},
		{40, 50, 1, 5, 1, 1},
		{40, 50, 1, 1, 1, 7.3},
		{17, 33, 2.5, 2.5, 0.1, 2.5},
		{100, 100, 64, 65, 72, 71.7},
	}
	for _, c := range cases {
		s := pipeline(c.g, c.m, c.a, c.b, c.c, c.load)
		full, err := Run(s, Options{NoFastForward: true})
		if err != nil {
			t.Fatal(err)
		}
		s = pipeline(c.g, c.m, c.a, c.b, c.c, c.load)
		ff, err := Run(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		rel := func(x, y float64) float64 { return math.Abs(x-y) / math.Max(math.Abs(y), 1e-300) }
		if rel(ff.Cycles, full.Cycles) > 1e-9 || rel(ff.EnergyPJ, full.EnergyPJ) > 1e-9 || rel(ff.TrafficBytes, full.TrafficBytes) > 1e-9 ||
			rel(ff.Busy["1d"], full.Busy["1d"]) > 1e-9 || ff.BufferPeak["L3"] != full.BufferPeak["L3"] {
			t.Errorf("%+v: ff %+v\nfull %+v", c, ff, full)
		}
		if c.g*c.m >= 2000 && ff.Issued*5 > full.Issued {
			t.Errorf("%+v: fast-forward issued %d of %d ops", c, ff.Issued, full.Issued)
		}
	}
}

func TestPipelineTiming(t *testing.T) {
	// One group: per tile X (3) on 2d then R (2) on 1d then Y (1) on 2d;
	// the 2d array runs X of the next tile while 1d runs R... only after Y.
	s := pipeline(1, 4, 3, 2, 1, 0)
	r, err := Run(s, Options{NoFastForward: true})
	if err != nil {
		t.Fatal(err)
	}
	// 2d: X0[0,3] R0[3,5] Y0[5,6] X1[6,9] R1[9,11] ... Y3 ends 24, F [24,26].
	if r.Cycles != 26 {
		t.Errorf("cycles = %g, want 26", r.Cycles)
	}
	if r.BufferPeak["L3"] != 200 {
		t.Errorf("peak = %g, want 200 (two tiles in flight)", r.BufferPeak["L3"])
	}
}

func BenchmarkFastForward(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := Run(pipeline(1<<20, 1<<12, 3, 2, 1, 1), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// A run without fast-forward is bounded before it starts: its state grows
// with every iteration.
func TestUnforwardedBound(t *testing.T) {
	_, err := Run(pipeline(1<<20, 1<<12, 3, 2, 1, 1), Options{NoFastForward: true})
	if err == nil || !strings.Contains(err.Error(), "without fast-forward the schedule issues") {
		t.Fatalf("2^32 iterations without fast-forward: %v", err)
	}
	if _, err := Run(pipeline(1<<20, 1<<12, 3, 2, 1, 1), Options{}); err != nil {
		t.Fatalf("the same with fast-forward: %v", err)
	}
}
