package llvm

import (
	"context"
	"testing"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/einsum/interp"
	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/lower"
	"github.com/fusemax/fusemax/sim"
	"github.com/fusemax/fusemax/tensor"
)

// simPoint is the design point both sides run: attention_1pass under
// fusemax-binding on an 8x8 array whose global buffer (2000 B) fits a query
// tile of P1 = 2 columns, so that P = 32 splits into P2 = 2 groups of 16 and
// K and V are read twice.
var simPoint = struct {
	shape    map[string]int64
	archSets []string
}{
	shape: map[string]int64{"B": 1, "H": 1, "E": 16, "F": 16, "M": 32, "P": 32},
	archSets: []string{"arrays.2d.rows=8", "arrays.2d.cols=8", "arrays.1d.length=8",
		"memory.L3.capacity=2000 B"},
}

// TestCountsAgainstSimulator runs the code generated under the mapping's
// tiling with access counting and checks its counts against the
// simulator's Timeloop counts for the same mapping (docs/llvm.md,
// "Instrumentation and the simulator", states the correspondence):
//
//   - innermost level: every evaluated point reads each operand once, so a
//     tensor's reads in the code are the sum over Einsums of the register
//     file reads the simulator counts (= the Einsum's points); a statement
//     writes each output point once, so the code's writes are the
//     simulator's distinct output elements, and its register-file updates
//     are those times the reduction's length. The code also runs what the
//     simulator does not count as work: seeds (RM[0, p] = -inf) and the
//     copies BK, BV (views of K and V to the simulator).
//   - DRAM: a tensor the mapping keeps off chip is moved once per element
//     per group, which is what the code's tile counters count.
func TestCountsAgainstSimulator(t *testing.T) {
	needTools(t)
	prog, err := kernels.Load("attention_1pass")
	if err != nil {
		t.Fatal(err)
	}
	c := prog.Cascades[0]
	a, err := arch.Load("fusemax-cloud", simPoint.archSets)
	if err != nil {
		t.Fatal(err)
	}
	m, err := lower.LoadMapping("fusemax-binding", simPoint.shape, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := lower.CountAccesses(c, a, m, simPoint.shape)
	if err != nil {
		t.Fatal(err)
	}
	if want.Tile["P"] != 16 || want.Sizes["M0"] != 8 {
		t.Fatalf("the design point changed: tile %v, sizes %v; want P tiles of 16 and M0 = 8", want.Tile, want.Sizes)
	}
	sizes, _, err := c.Bind(want.Sizes)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := interp.RandomInputs(c, sizes, 1)
	got, err := Exec(context.Background(), c, sizes, in, Options{DType: tensor.F32, CountAccesses: true, MapTile: want.Tile})
	if err != nil {
		t.Fatal(err)
	}
	E, F, M, P := sizes["E"], sizes["F"], sizes["M"], sizes["P"]
	P2 := P / want.Tile["P"]

	// The innermost level, reference by reference.
	rf, dram := len(want.Levels)-1, 0
	simReads, simWrites, simDRAM := map[string]float64{}, map[string]float64{}, map[string][2]float64{}
	for _, x := range want.Accesses {
		if x.Output {
			e := einsumNamed(c, x.Einsum)
			red := 1.0
			for _, v := range e.ReducedVars() {
				red *= float64(sizes[v.Name])
			}
			if x.Updates[rf] != x.Points || x.Points != x.Elements*red {
				t.Errorf("%s: output %s: RF updates %g, points %g, elements %g; want updates = points = elements x %g",
					x.Einsum, x.Tensor, x.Updates[rf], x.Points, x.Elements, red)
			}
			simWrites[x.Tensor] += x.Elements
		} else {
			if x.Reads[rf] != x.Points {
				t.Errorf("%s: operand %s: RF reads %g, want the Einsum's %g points", x.Einsum, x.Tensor, x.Reads[rf], x.Points)
			}
			simReads[x.Tensor] += x.Reads[rf]
		}
		d := simDRAM[x.Tensor]
		d[0] += x.Reads[dram]
		if x.Output {
			d[1] += x.Updates[dram]
		}
		simDRAM[x.Tensor] = d
	}
	// What the code runs beyond the simulator's work: seeds (no reads) and
	// copies (a plain read, which the simulator takes as a view of its
	// source) write every point of their output once.
	extraWrites := map[string]float64{}
	for _, e := range c.Einsums {
		_, copied := e.Expr.(*einsum.Read)
		if len(e.Reads()) == 0 || copied && len(e.Reductions) == 0 {
			n := 1.0
			for _, v := range e.OutputVars() {
				n *= float64(sizes[v.Name])
			}
			extraWrites[e.Output.Tensor.Name] += n
		}
	}
	if extraWrites["BK"] != float64(E*M) || extraWrites["RM"] != float64(P) {
		t.Errorf("copies and seeds: %v; want BK = E*M, RM = P", extraWrites)
	}
	for _, tn := range c.Tensors {
		name, code := tn.Name, got.Counts[tn.Name]
		wantReads := simReads[name]
		if name == "K" || name == "V" {
			wantReads = float64(tn.Shape(sizes)[0] * tn.Shape(sizes)[1]) // the copy into BK, BV
		}
		if float64(code.Reads) != wantReads || float64(code.Writes) != simWrites[name]+extraWrites[name] {
			t.Errorf("%s: code reads %d, writes %d; simulator: reads %g, writes %g (+%g seeds and copies)",
				name, code.Reads, code.Writes, simReads[name], simWrites[name], extraWrites[name])
		}
	}

	// DRAM, in closed form: Q read and AV written once, K and V (through
	// BK and BV) read once per group.
	closed := map[string][2]float64{"Q": {float64(E * P), 0}, "BK": {float64(E * M * P2), 0},
		"BV": {float64(F * M * P2), 0}, "AV": {0, float64(F * P)}}
	var words float64
	for name, d := range simDRAM {
		if d == ([2]float64{}) {
			continue
		}
		code := got.Counts[name]
		// A copy's writes happen outside the groups, once per element.
		if d != closed[name] || float64(code.TileReads) != d[0] || float64(code.TileWrites) != d[1]+extraWrites[name] {
			t.Errorf("%s: DRAM reads, writes: simulator %v, code tiles %d, %d, closed form %v", name, d, code.TileReads, code.TileWrites, closed[name])
		}
		words += d[0] + d[1]
	}
	if len(simDRAM) == 0 || words != float64(E*P+E*M*P2+F*M*P2+F*P) {
		t.Errorf("DRAM words %g, want %d", words, E*P+E*M*P2+F*M*P2+F*P)
	}
	// The tile counters see the executed tiling: run as one group, the code
	// reads BK once, not once per group as the mapping has it.
	one, err := Exec(context.Background(), c, sizes, in, Options{DType: tensor.F32, CountAccesses: true, MapTile: map[string]int64{"P": P}})
	if err != nil {
		t.Fatal(err)
	}
	if n := one.Counts["BK"].TileReads; n != E*M {
		t.Errorf("untiled: BK tile reads %d, want E*M = %d", n, E*M)
	}
	rep, err := lower.Simulate(c, a, m, simPoint.shape, lower.Options{}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.TrafficBytes != words*a.WordBytes {
		t.Errorf("simulated traffic %g B, want the code's %g words of %g B", rep.TrafficBytes, words, a.WordBytes)
	}
}

func einsumNamed(c *einsum.Cascade, name string) *einsum.Einsum {
	for _, e := range c.Einsums {
		if e.Name() == name {
			return e
		}
	}
	return nil
}
