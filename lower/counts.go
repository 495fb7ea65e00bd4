package lower

import (
	"maps"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
)

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
// returns the per-reference access counts Lower computes on the way.
func CountAccesses(c *einsum.Cascade, a *arch.Spec, m *Mapping, shape map[string]int64) (*Counts, error) {
	plan, err := Lower(c, a, m, shape, Options{})
	if err != nil {
		return nil, err
	}
	// Lower keeps its lowering to itself; rebuilding it with the derived
	// values Lower chose gives the nests the schedule was built from.
	lw := &lowering{c: c, a: a, m: m, shape: shape, derived: maps.Clone(plan.Derived), word: a.WordBytes}
	if err := lw.bindSizes(); err != nil {
		return nil, err
	}
	if err := lw.classify(); err != nil {
		return nil, err
	}
	if err := lw.build(); err != nil {
		return nil, err
	}
	out := &Counts{Sizes: maps.Clone(plan.Sizes), Tile: maps.Clone(lw.tile),
		Levels: []string{a.Memories[0].Name, globalBuffer(a).Name, "RF"}}
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
	return out, nil
}
