package lower

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fusemax/fusemax/einsum"
)

// Filters (masks) cost what they skip, at the mapping's granularity.
//
// A point a filter excludes costs nothing, but hardware skips work a tile
// at a time: a tile with no defined point is skipped whole, a partly
// defined one costs a full tile. The tiles are the cells of a grid over
// the loops above the arrays: the group loops of the tiled ranks (cut
// into the arrays' spatial extent of the rank, the finest block one tile
// operation works on) and the iterate loop (one iteration per cell).
//
// Which Einsums a skipped cell spares follows from the cascade, not from a
// list: an Einsum's points are masked by its own filter and by the masks
// of the tensors it reads (a map of an undefined point is undefined, a
// reduction skips it), and an abstract evaluation of the iterate body per
// class of cells finds the Einsums whose result is then known without
// work: a reduction over no point is its identity (LM = -inf), a state
// update by an identity leaves the state as it was (RM[m1+1] = max(RM[m1],
// -inf) = RM[m1]), and what follows from an unchanged state is constant
// (exp(RM[m1] - RM[m1+1]) = 1). Such an Einsum does no work in that cell.
//
// The schedule is periodic, so a skipped cell is charged by scaling each
// Einsum's tile operation by the share of cells in which it works (its
// compute and on-chip accesses), and its DRAM transfers by the share of
// DRAM tiles (a group of the tiled ranks at one iteration) in which it
// works: a K/V tile no query of a group needs is not read.

// lin is an integer affine form c + Σ k[v]·v over an Einsum's variables.
type lin struct {
	c int64
	k map[*einsum.Rank]int64
}

// cond is l op 0.
type cond struct {
	l  lin
	op einsum.CmpOp
}

func affineLin(a einsum.Affine, sizes map[string]int64) lin {
	l := lin{c: a.Const.MustEval(sizes), k: map[*einsum.Rank]int64{}}
	for _, t := range a.Terms {
		l.k[t.Var] += t.Coef.MustEval(sizes)
	}
	return l.trim()
}

// trim drops variables whose coefficient is zero.
func (l lin) trim() lin {
	for v, c := range l.k {
		if c == 0 {
			delete(l.k, v)
		}
	}
	return l
}

// plus is l + f·m.
func (l lin) plus(f int64, m lin) lin {
	out := lin{c: l.c + f*m.c, k: map[*einsum.Rank]int64{}}
	for v, c := range l.k {
		out.k[v] += c
	}
	for v, c := range m.k {
		out.k[v] += f * c
	}
	return out.trim()
}

// cset is a conjunction of conditions over a fixed list of variables:
// row i is c[i] + Σ_j k[i][j]·x_j op[i] 0. Boxes over it are slices of
// inclusive ranges, one per variable, so the recursions below allocate
// nothing per box.
type cset struct {
	vars []*einsum.Rank
	k    [][]int64
	c    []int64
	op   []einsum.CmpOp
}

// ibox is an inclusive range per variable of a cset.
type ibox [][2]int64

func newCset(conds []cond) *cset {
	s := &cset{}
	idx := map[*einsum.Rank]int{}
	for _, c := range conds {
		for v := range c.l.k {
			if _, ok := idx[v]; !ok {
				idx[v] = -1
				s.vars = append(s.vars, v)
			}
		}
	}
	slices.SortFunc(s.vars, func(a, b *einsum.Rank) int { return strings.Compare(a.Name, b.Name) })
	for i, v := range s.vars {
		idx[v] = i
	}
	for _, c := range conds {
		row := make([]int64, len(s.vars))
		for v, k := range c.l.k {
			row[idx[v]] = k
		}
		s.k, s.c, s.op = append(s.k, row), append(s.c, c.l.c), append(s.op, c.op)
	}
	return s
}

// key identifies the conditions, for sharing work between Einsums whose
// masks are the same.
func (s *cset) key() string {
	var b strings.Builder
	for _, v := range s.vars {
		fmt.Fprintf(&b, "%p,", v)
	}
	for i := range s.c {
		fmt.Fprintf(&b, "|%d %v %d", s.c[i], s.k[i], s.op[i])
	}
	return b.String()
}

// verdict of a condition set over a box.
type verdict int

const (
	none  verdict = iota // no point satisfies every condition
	every                // every point does
	some                 // undecided at this box
)

// judge decides the set over b as far as each condition alone allows.
func (s *cset) judge(b ibox) verdict {
	all := true
	for i, row := range s.k {
		lo, hi := s.c[i], s.c[i]
		for j, k := range row {
			if k >= 0 {
				lo, hi = lo+k*b[j][0], hi+k*b[j][1]
			} else {
				lo, hi = lo+k*b[j][1], hi+k*b[j][0]
			}
		}
		yes, no := holdsRange(s.op[i], lo, hi)
		if no {
			return none
		}
		all = all && yes
	}
	if all {
		return every
	}
	return some
}

// holdsRange says whether l op 0 holds for every (yes) or no (no) value of
// l in [lo, hi].
func holdsRange(op einsum.CmpOp, lo, hi int64) (yes, no bool) {
	switch op {
	case einsum.EQ:
		return lo == 0 && hi == 0, lo > 0 || hi < 0
	case einsum.NE:
		return lo > 0 || hi < 0, lo == 0 && hi == 0
	case einsum.LT:
		return hi < 0, lo >= 0
	case einsum.LE:
		return hi <= 0, lo > 0
	case einsum.GT:
		return lo > 0, hi <= 0
	default:
		return lo >= 0, hi < 0
	}
}

// splitVar picks the variable to split b on: the widest but one, so that
// the recursion ends with a single free variable, which solve settles in
// closed form. split is -1 when at most one variable is free.
func splitVar(b ibox) (split, free int) {
	split, free = -1, -1
	var s1, s2 int64
	for j, r := range b {
		switch w := r[1] - r[0]; {
		case w == 0:
		case w > s1:
			split, s2, free, s1 = free, s1, j, w
		case w > s2:
			split, s2 = j, w
		}
	}
	return split, free
}

// solve counts the values of variable free in b that satisfy every
// condition, every other variable being fixed at its (single) value.
func (s *cset) solve(b ibox, free int) int64 {
	lo, hi := b[free][0], b[free][1]
	for i, row := range s.k {
		k, rest := row[free], s.c[i]
		for j, kj := range row {
			if j != free {
				rest += kj * b[j][0]
			}
		}
		op := s.op[i]
		if k == 0 || op != einsum.EQ && op != einsum.NE {
			var ok bool
			if lo, hi, ok = xRange(op, rest, k, lo, hi); !ok {
				return 0
			}
			continue
		}
		a := -rest // k·x op a; = and ≠ read the same with both sides negated
		if k < 0 {
			k, a = -k, rest
		}
		switch op {
		case einsum.EQ:
			if a%k != 0 {
				return 0
			}
			lo, hi = max(lo, a/k), min(hi, a/k)
		case einsum.NE:
			if x := a / k; a%k == 0 && lo <= x && x <= hi {
				// Split around the excluded value and count both sides.
				keep := b[free]
				n := int64(0)
				if x > lo {
					b[free] = [2]int64{lo, x - 1}
					n += s.solve(b, free)
				}
				if x < hi {
					b[free] = [2]int64{x + 1, hi}
					n += s.solve(b, free)
				}
				b[free] = keep
				return n
			}
		}
	}
	return max(0, hi-lo+1)
}

// flip is the comparison with both sides negated.
func flip(op einsum.CmpOp) einsum.CmpOp {
	switch op {
	case einsum.LT:
		return einsum.GT
	case einsum.LE:
		return einsum.GE
	case einsum.GT:
		return einsum.LT
	case einsum.GE:
		return einsum.LE
	}
	return op
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

// count is how many points of b satisfy every condition. Boxes a
// condition decides are settled at once and the last free variable in
// closed form, so the cost grows with the masks' boundary, not the box.
// Where the two widest variables can be summed in closed form (count2),
// the others are split instead, down to one value each.
func (s *cset) count(b ibox) float64 {
	switch s.judge(b) {
	case none:
		return 0
	case every:
		return volume(b)
	}
	v, free := splitVar(b)
	if v < 0 {
		if free < 0 {
			return 0
		}
		return float64(s.solve(b, free))
	}
	if s.closedForm(free) {
		if twoWide(b) {
			return s.count2(b, v, free)
		}
		v = narrowestOther(b, v, free)
	}
	r := b[v]
	mid := r[0] + (r[1]-r[0])/2
	b[v] = [2]int64{r[0], mid}
	n := s.count(b)
	b[v] = [2]int64{mid + 1, r[1]}
	n += s.count(b)
	b[v] = r
	return n
}

// any reports whether some point of b satisfies every condition.
func (s *cset) any(b ibox) bool {
	switch s.judge(b) {
	case none:
		return false
	case every:
		return true
	}
	v, free := splitVar(b)
	if v < 0 {
		return free >= 0 && s.solve(b, free) > 0
	}
	if s.closedForm(free) {
		if twoWide(b) {
			return s.count2(b, v, free) > 0
		}
		v = narrowestOther(b, v, free)
	}
	r := b[v]
	mid := r[0] + (r[1]-r[0])/2
	b[v] = [2]int64{r[0], mid}
	ok := s.any(b)
	if !ok {
		b[v] = [2]int64{mid + 1, r[1]}
		ok = s.any(b)
	}
	b[v] = r
	return ok
}

func volume(b ibox) float64 {
	n := 1.0
	for _, r := range b {
		n *= float64(r[1] - r[0] + 1)
	}
	return n
}
