package gpu

import (
	"maps"
	"slices"

	"github.com/fusemax/fusemax/einsum"
)

// tileClass is what a filter leaves of one (query block, key block) tile.
type tileClass int

const (
	tileFull    tileClass = iota // every point defined
	tilePartial                  // some: costs a full tile plus the mask
	tileSkipped                  // none: the kernel never loads or computes it
)

// box is the range of every variable over one tile.
type box map[*einsum.Rank][2]int64

// span is the least and greatest value of an affine expression over a box.
func span(x einsum.Affine, b box, sizes map[string]int64) (lo, hi int64) {
	c := x.Const.MustEval(sizes)
	lo, hi = c, c
	for _, t := range x.Terms {
		k := t.Coef.MustEval(sizes)
		r, ok := b[t.Var]
		if !ok {
			r = [2]int64{0, sizes[t.Var.Name] - 1}
		}
		a, z := k*r[0], k*r[1]
		lo += min(a, z)
		hi += max(a, z)
	}
	return lo, hi
}

// condOver says whether a condition holds at every point of the box (all)
// or at none: exact for one condition, conservative (partial) otherwise.
func condOver(c einsum.Cond, b box, sizes map[string]int64) (all, none bool) {
	l1, h1 := span(c.L, b, sizes)
	l2, h2 := span(c.R, b, sizes)
	lo, hi := l1-h2, h1-l2 // range of L - R
	switch c.Op {
	case einsum.LT:
		return hi < 0, lo >= 0
	case einsum.LE:
		return hi <= 0, lo > 0
	case einsum.GT:
		return lo > 0, hi <= 0
	case einsum.GE:
		return lo >= 0, hi < 0
	case einsum.EQ:
		return lo == 0 && hi == 0, lo > 0 || hi < 0
	default:
		return lo > 0 || hi < 0, lo == 0 && hi == 0
	}
}

// classify is the class of one tile over the masked Einsums.
func classify(masked []*einsum.Einsum, b box, sizes map[string]int64) tileClass {
	allFull, allNone := true, true
	for _, e := range masked {
		full, none := true, false
		for _, c := range e.Filters {
			a, n := condOver(c, b, sizes)
			full = full && a
			none = none || n
		}
		allFull = allFull && full && !none
		allNone = allNone && none
	}
	switch {
	case allNone:
		return tileSkipped
	case allFull:
		return tileFull
	}
	return tilePartial
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
