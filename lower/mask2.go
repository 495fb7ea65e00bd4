package lower

import (
	"slices"

	"github.com/fusemax/fusemax/einsum"
)

// Counting over two variables in closed form. A causal or windowed mask
// over (m1, m0, p) at a million points per rank leaves, for each value of
// one variable, an interval of another whose ends move linearly: summing
// those intervals piece by piece costs a few operations per condition
// pair instead of one solve per value.

// bound is the line y ≥ a + k·x (a lower bound of the free variable) or
// y ≤ a + k·x (an upper one) over the split variable x.
type bound struct{ a, k int64 }

func (l bound) at(x int64) int64 { return l.a + l.k*x }

// twoWide reports whether exactly two variables of b range over more than
// one value.
func twoWide(b ibox) bool {
	n := 0
	for _, r := range b {
		if r[1] > r[0] {
			n++
		}
	}
	return n == 2
}

// closedForm reports whether count2 can sum over y: no condition is an
// equality or inequation, and every coefficient of y is -1, 0 or 1.
func (s *cset) closedForm(y int) bool {
	for i, row := range s.k {
		if s.op[i] == einsum.EQ || s.op[i] == einsum.NE || row[y] < -1 || row[y] > 1 {
			return false
		}
	}
	return true
}

// narrowestOther is the narrowest variable of b, other than x and y, that
// ranges over more than one value (there is one: b is not twoWide).
func narrowestOther(b ibox, x, y int) int {
	best := -1
	for j, r := range b {
		if j != x && j != y && r[1] > r[0] && (best < 0 || r[1]-r[0] < b[best][1]-b[best][0]) {
			best = j
		}
	}
	return best
}

// count2 counts the points of b that satisfy every condition when only x
// and y range over more than one value and closedForm(y): for each x the
// values of y form an interval between the highest lower bound and the
// lowest upper bound, each a line in x.
func (s *cset) count2(b ibox, x, y int) float64 {
	var lowBuf, highBuf [8]bound
	lows := append(lowBuf[:0], bound{a: b[y][0]})
	highs := append(highBuf[:0], bound{a: b[y][1]})
	xlo, xhi := b[x][0], b[x][1]
	for i, row := range s.k {
		rest := s.c[i]
		for j, kj := range row {
			if j != x && j != y {
				rest += kj * b[j][0]
			}
		}
		op, kx, ky := s.op[i], row[x], row[y]
		if ky == 0 { // rest + kx·x op 0 bounds x alone
			lo, hi, any := xRange(op, rest, kx, xlo, xhi)
			if !any {
				return 0
			}
			xlo, xhi = lo, hi
			continue
		}
		// rest + kx·x + ky·y op 0 is y op' a + k·x.
		a, k := -rest, -kx
		if ky < 0 {
			a, k, op = rest, kx, flip(op)
		}
		switch op {
		case einsum.LT:
			highs = append(highs, bound{a - 1, k})
		case einsum.LE:
			highs = append(highs, bound{a, k})
		case einsum.GT:
			lows = append(lows, bound{a + 1, k})
		default:
			lows = append(lows, bound{a, k})
		}
	}
	if xlo > xhi {
		return 0
	}
	return sumWidths(lows, highs, xlo, xhi)
}

// xRange narrows [lo, hi] to the x with rest + k·x op 0 (op an order, or
// any comparison when k is 0); false when none is left.
func xRange(op einsum.CmpOp, rest, k, lo, hi int64) (int64, int64, bool) {
	if k == 0 {
		y, _ := holdsRange(op, rest, rest)
		return lo, hi, y
	}
	a := -rest // k·x op a
	if k < 0 {
		k, a, op = -k, rest, flip(op)
	}
	switch op {
	case einsum.LT:
		hi = min(hi, ceilDiv(a, k)-1)
	case einsum.LE:
		hi = min(hi, floorDiv(a, k))
	case einsum.GT:
		lo = max(lo, floorDiv(a, k)+1)
	default:
		lo = max(lo, ceilDiv(a, k))
	}
	return lo, hi, lo <= hi
}

// sumWidths is Σ over x in [xlo, xhi] of max(0, min highs(x) − max
// lows(x) + 1). Between consecutive crossings of two of the lines (a high
// and a high, a low and a low, or a high one above a low: where the width
// passes zero), the lowest high, the highest low and the sign of the width
// are fixed, so each piece is an arithmetic series.
func sumWidths(lows, highs []bound, xlo, xhi int64) float64 {
	var buf [32]int64
	starts := append(buf[:0], xlo, xhi+1)
	cross := func(p, q bound) {
		if p.k == q.k {
			return
		}
		// p.a + p.k·x = q.a + q.k·x at x* = (q.a − p.a)/(p.k − q.k); the
		// piece after it starts at ⌊x*⌋ + 1.
		if s := floorDiv(q.a-p.a, p.k-q.k) + 1; s > xlo && s <= xhi {
			starts = append(starts, s)
		}
	}
	for i, p := range highs {
		for _, q := range highs[i+1:] {
			cross(p, q)
		}
		for _, q := range lows {
			cross(bound{p.a + 1, p.k}, q)
		}
	}
	for i, p := range lows {
		for _, q := range lows[i+1:] {
			cross(p, q)
		}
	}
	slices.Sort(starts)
	starts = slices.Compact(starts)
	width := func(x int64) int64 {
		lo, hi := lows[0].at(x), highs[0].at(x)
		for _, l := range lows[1:] {
			lo = max(lo, l.at(x))
		}
		for _, h := range highs[1:] {
			hi = min(hi, h.at(x))
		}
		return hi - lo + 1
	}
	var n float64
	for i := 0; i+1 < len(starts); i++ {
		s, e := starts[i], starts[i+1]-1
		ws, we := width(s), width(e)
		if ws >= 0 && we >= 0 {
			n += float64(e-s+1) * float64(ws+we) / 2
		}
	}
	return n
}
