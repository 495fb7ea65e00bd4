package lower

import (
	"maps"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
)

// The count pass: Timeloop's access counts (nest.count, MODEL.md §4) for
// every placed reference, then what one tile operation of each Einsum
// costs: its cycles on the PE and its actions (the PE's primitives, the
// global buffer's row accesses, the register files' accesses), charged
// the way the accounting profile says.

// count counts every access of every Einsum.
func (lw *lowering) count() {
	for _, p := range lw.ops {
		for _, x := range p.acc {
			x.cnt = p.nest.count(x.keepers, x.relevant, x.output)
		}
	}
}

// tileCycles is how long one tile operation of p keeps its array busy:
// its global-buffer temporal loops (and DRAM loops inside the operation)
// times the PE's cycles per point.
func (lw *lowering) tileCycles(p *eplan) float64 {
	cycles := 1.0
	for _, l := range p.nest.loops {
		if (l.level == lw.gb() || l.inner) && !l.spatial {
			cycles *= float64(l.bound)
		}
	}
	pf := map[string]float64{}
	for k, v := range p.prims {
		pf[k] = float64(v)
	}
	return cycles * p.array.PE.Cycles(pf)
}

// peFrac is the share of the array's PEs one tile operation occupies.
func (lw *lowering) peFrac(p *eplan) float64 {
	pes := 1.0
	for _, l := range p.nest.loops {
		if l.spatial {
			pes *= float64(l.bound)
		}
	}
	return pes / float64(p.array.PEs())
}

// tileActions is the actions of one tile operation of p: each primitive
// per point, and each access's global-buffer rows and register-file
// words, as the profile charges them.
func (lw *lowering) tileActions(p *eplan) map[string]float64 {
	act := map[string]float64{}
	inst := float64(p.nInst)
	points := p.nest.computes()
	for k, v := range p.prims {
		act[p.array.Name+"."+k] += float64(v) * points / inst
	}
	gb := globalBuffer(lw.a)
	gbWords := gb.WidthBytes / lw.word
	for _, x := range p.acc {
		for _, k := range x.keepers {
			if k > levelDRAM && k < lw.gb() { // a level between DRAM and the global buffer
				lv, c := lw.a.Memories[k], x.cnt
				words := lv.WidthBytes / lw.word
				act[lv.Name+".read"] += c.Reads[k] / words / inst
				act[lv.Name+".write"] += (c.Updates[k] + c.Fills[k]) / words / inst
			}
		}
		gr, gw, rr, rw := lw.prof.charged(x.cnt, lw.gb(), lw.rf())
		act[gb.Name+".read"] += gr / gbWords / inst
		act[gb.Name+".write"] += gw / gbWords / inst
		act[p.array.Name+".rf.read"] += rr / inst
		act[p.array.Name+".rf.write"] += rw / inst
	}
	return act
}

// Counts is what the lowering decided and counted for one design point, in
// a form a backend that executes the same schedule can be checked against
// (lower/llvm's instrumented code, see docs/llvm.md).
type Counts struct {
	// Sizes are the cascade's sizes with those the mapping fixes (M0) and
	// derives (P1), as Plan.Sizes.
	Sizes map[string]int64
	// Tile is the extent of each tiled rank one group covers; the groups
	// (size / tile) are the outermost loops, outside the iterate block.
	Tile map[string]int64
	// Levels names the storage levels of the counts, outermost first: the
	// off-chip memory, the global buffer, then the PE register file.
	Levels []string
	// Accesses has one entry per tensor reference of every Einsum that does
	// work, in cascade order, reads before the output.
	Accesses []AccessCount
}

// AccessCount is Timeloop's count (MODEL.md §4) for one tensor reference,
// totalled over instances at every level.
type AccessCount struct {
	Einsum string
	// Tensor is the name the Einsum uses (BK, not K, of which BK is a view).
	Tensor string
	Output bool
	// Points is how many points of its iteration space the Einsum
	// evaluates (Timeloop's computes).
	Points float64
	// Elements is how many distinct elements of the tensor the reference
	// touches over the whole nest.
	Elements float64
	// Reads, Updates and Fills are indexed by level (Counts.Levels); a
	// level that does not keep the tensor counts zero.
	Reads, Updates, Fills []float64
}

// CountAccesses lowers c onto a under m at shape, as Lower does, and
// returns the per-reference access counts of the plan's count pass.
func CountAccesses(c *einsum.Cascade, a *arch.Spec, m *Mapping, shape map[string]int64) (*Counts, error) {
	plan, err := Lower(c, a, m, shape, Options{})
	if err != nil {
		return nil, err
	}
	return plan.counts(), nil
}

// counts reads the count pass's results off the plan.
func (pl *Plan) counts() *Counts {
	lw := pl.lw
	out := &Counts{Sizes: maps.Clone(pl.Sizes), Tile: maps.Clone(lw.tile),
		Levels: lw.levelNames()}
	for _, p := range lw.ops {
		for _, x := range p.acc {
			elems := 1.0
			for _, l := range p.nest.loops {
				if x.rel[l.rank] {
					elems *= float64(l.bound)
				}
			}
			out.Accesses = append(out.Accesses, AccessCount{Einsum: p.e.Name(), Tensor: x.name, Output: x.output,
				Points: p.nest.computes(), Elements: elems,
				Reads: x.cnt.Reads, Updates: x.cnt.Updates, Fills: x.cnt.Fills})
		}
	}
	return out
}
