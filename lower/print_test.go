package lower

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/sim"
)

var updateSchedule = flag.Bool("update-schedule", false, "rewrite testdata/*.schedule (make golden)")

// The lowered programs `simulate --print-schedule` prints, against golden
// text: the binding of Cascade 5, the causal cascade (masked tiles) and a
// derived mapping of Toy Cascade 3. make golden rewrites them.
func TestPrintScheduleGolden(t *testing.T) {
	shape := map[string]int64{"B": 1, "H": 2, "E": 64, "F": 64, "M": 1024, "P": 1024}
	dense, a := load(t, "attention_1pass", "fusemax-cloud")
	toy, _ := load(t, "toy_cascade3", "fusemax-cloud")
	binding, err := LoadMapping("fusemax-binding", shape, nil)
	if err != nil {
		t.Fatal(err)
	}
	derived, _, err := DeriveMapping(toy, a, map[string]int64{"K": 64})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		c     *einsum.Cascade
		m     *Mapping
		shape map[string]int64
	}{
		{"binding", dense, binding, shape},
		{"causal", loadFile(t, "testdata/causal.einsum"), binding, shape},
		{"toy3-derived", toy, derived, map[string]int64{"K": 64}},
	} {
		r, err := Simulate(tc.c, a, tc.m, tc.shape, Options{PrintSchedule: true}, sim.Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		checkGolden(t, filepath.Join("testdata", tc.name+".schedule"), r.Program)
	}
}

// Validate rejects what the simulator cannot run, with the reason.
func TestValidateRejects(t *testing.T) {
	op := &sim.Op{Name: "x", Unit: 0, Cycles: 1, PEFrac: 1}
	loop := &sim.Loop{Name: "l", Count: 2, Body: []sim.Item{op}}
	s := &sim.Schedule{ClockHz: 1e9, Units: []sim.Unit{{Name: "u"}}, Root: loop, EnergyPJ: map[string]float64{}}
	if err := sim.Validate(s); err != nil {
		t.Fatal(err)
	}
	op.Deps = []sim.Dep{{Op: op, Loop: loop, Back: 1 << 20}}
	if err := sim.Validate(s); err == nil {
		t.Error("a dependency a million iterations back passed")
	}
	op.Deps = nil
	op.Actions = map[string]float64{"u.frob": 1}
	if err := sim.Validate(s); err == nil {
		t.Error("an action without an energy passed")
	}
}
