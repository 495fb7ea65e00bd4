package arch

import (
	"strings"
	"testing"
)

func TestShippedSpecs(t *testing.T) {
	for _, name := range []string{"fusemax-cloud", "flat-cloud"} {
		s, err := Load(name, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.ClockHz != 940e6 || s.Memories[0].Bandwidth != 400*(1<<30) {
			t.Errorf("%s: clock %g bandwidth %g", name, s.ClockHz, s.Memories[0].Bandwidth)
		}
		if got := s.Array("2d").PEs(); got != 65536 {
			t.Errorf("%s: 2d PEs = %d", name, got)
		}
	}
	s, _ := Load("fusemax-cloud", nil)
	e, ok := s.Array("2d").PE.Expand("exp")
	if !ok || e["mac"] != 6 {
		t.Errorf("fusemax exp = %v", e)
	}
	// Division on the 2D array is built from MACs (Newton-Raphson), the
	// sigmoid from the exponential and the division.
	if d, ok := s.Array("2d").PE.Expand("div"); !ok || d["mac"] != 7 {
		t.Errorf("fusemax 2d div = %v", d)
	}
	if d, ok := s.Array("2d").PE.Expand("sigmoid"); !ok || d["mac"] != 13 || d["add"] != 2 {
		t.Errorf("fusemax 2d sigmoid = %v", d)
	}
	f, _ := Load("flat-cloud", nil)
	if _, ok := f.Array("2d").PE.Expand("max"); ok {
		t.Errorf("FLAT's MAC-only 2d PE has no max")
	}
}

const small = `name: t
clock: 1 GHz
word: 2 B
memory:
  DRAM: {bandwidth: 1 GB/s, width: 8 B, read_energy: 1 pJ, write_energy: 1 pJ}
  L3: {capacity: 1 MiB, width: 64 B, read_energy: 1 pJ, write_energy: 1 pJ}
arrays:
  2d:
    rows: 4
    cols: 4
    pe:
      ops: {mac: {cycles: 1, energy: 1 pJ}}
`

func TestErrors(t *testing.T) {
	cases := []struct {
		name, src string
		sets      []string
		want      string
	}{
		{"ok", small, nil, ""},
		{"unknown key", strings.Replace(small, "word: 2 B", "word: 2 B\ncolor: red", 1), nil, "t.yaml:4:1: arch: unknown key \"color\""},
		{"missing", strings.Replace(small, "clock: 1 GHz\n", "", 1), nil, "t.yaml:1:1: arch: missing \"clock\""},
		{"negative", strings.Replace(small, "rows: 4", "rows: -4", 1), nil, "t.yaml:9:11: arch.arrays.2d.rows = -4 must be at least 1"},
		{"unit", strings.Replace(small, "capacity: 1 MiB", "capacity: 1 MHz", 1), nil, "unit \"MHz\" in \"1 MHz\" is inconsistent: want a size"},
		{"no unit", strings.Replace(small, "clock: 1 GHz", "clock: 1000", 1), nil, "t.yaml:2:8: arch.clock: \"1000\" needs a unit"},
		{"set", small, []string{"arrays.2d.rows=8"}, ""},
		{"set bad", small, []string{"memory.L3.capacity=big"}, "--set memory.L3.capacity=big: arch.memory.L3.capacity: \"big\" is not a number"},
		{"set path", small, []string{"memory.L9.capacity=1MiB"}, "has no key \"L9\""},
		{"set syntax", small, []string{"rows"}, "want path=value"},
		{"derived", strings.Replace(small, "ops: {", "derived: {exp: {add: 2}}\n      ops: {", 1), nil, "derived operation \"exp\" cannot be built"},
		{"yaml", "a: [", nil, "t.yaml:1:1:"},
	}
	for _, c := range cases {
		_, err := Parse("t.yaml", []byte(c.src), c.sets)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: unexpected %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
	s, err := Parse("t.yaml", []byte(small), []string{"arrays.2d.rows=8"})
	if err != nil || s.Array("2d").PEs() != 32 {
		t.Errorf("--set did not apply: %v", err)
	}
}

func TestCycles(t *testing.T) {
	pe := PE{Ops: map[string]*Op{"add": {Cycles: 1}, "exp": {Cycles: 1}}}
	prims := map[string]float64{"add": 1, "exp": 1}
	if got := pe.Cycles(prims); got != 2 {
		t.Errorf("serial = %g", got)
	}
	pe.Parallel = true
	if got := pe.Cycles(prims); got != 1 {
		t.Errorf("parallel = %g", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(small), "arrays.2d.rows=8")
	f.Add([]byte("name: x\nclock: 1 Hz"), "")
	f.Fuzz(func(t *testing.T, src []byte, set string) {
		var sets []string
		if set != "" {
			sets = []string{set}
		}
		s, err := Parse("f.yaml", src, sets)
		if err == nil && s == nil {
			t.Fatal("nil spec without error")
		}
	})
}
