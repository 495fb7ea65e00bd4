package sim_test

import (
	"fmt"

	"github.com/fusemax/fusemax/sim"
)

// Two arrays in a pipeline: A on unit 0 feeds B on unit 1 through a
// double buffer, a thousand times. Unit 0 starts the next A while unit 1
// runs B, so the run takes 1000 periods of the slower unit plus one fill;
// fast-forwarding simulates only a few iterations.
func ExampleRun() {
	loop := &sim.Loop{Name: "tile", Count: 1000}
	a := &sim.Op{Name: "A", Einsum: "A", Unit: 0, Cycles: 3, PEFrac: 1}
	b := &sim.Op{Name: "B", Einsum: "B", Unit: 1, Cycles: 5, PEFrac: 1, Deps: []sim.Dep{{Op: a, Loop: loop}}}
	a.Deps = []sim.Dep{{Op: b, Loop: loop, Back: 2}} // A's buffer is free once B two tiles back is done
	loop.Body = []sim.Item{a, b}
	s := &sim.Schedule{ClockHz: 1e9, Units: []sim.Unit{{Name: "2d"}, {Name: "1d"}}, Root: &sim.Loop{Name: "run", Count: 1, Body: []sim.Item{loop}}}
	r, err := sim.Run(s, sim.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("cycles %.0f, 1d utilization %.4f, simulated %d of 2000 operations\n", r.Cycles, r.Utilization["1d"], r.Issued)
	// Output: cycles 5003, 1d utilization 0.9994, simulated 18 of 2000 operations
}
