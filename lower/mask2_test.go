package lower

import (
	"math/rand/v2"
	"testing"

	"github.com/fusemax/fusemax/einsum"
)

// bruteCount counts the points of b satisfying every condition of s one
// by one.
func bruteCount(s *cset, b ibox) float64 {
	pt := make([]int64, len(b))
	var n float64
	var walk func(j int)
	walk = func(j int) {
		if j == len(b) {
			for i, row := range s.k {
				l := s.c[i]
				for v, k := range row {
					l += k * pt[v]
				}
				if y, _ := holdsRange(s.op[i], l, l); !y {
					return
				}
			}
			n++
			return
		}
		for x := b[j][0]; x <= b[j][1]; x++ {
			pt[j] = x
			walk(j + 1)
		}
	}
	walk(0)
	return n
}

// TestCountTwoVariablesClosedForm: count (which sums two free variables
// in closed form where it can) and any agree with counting point by point
// on random conditions over random boxes of two and three variables,
// coefficients of the free variable in -1..1 (the closed form) and beyond
// (the recursion), every comparison.
func TestCountTwoVariablesClosedForm(t *testing.T) {
	vars := []*einsum.Rank{{Name: "A"}, {Name: "B"}, {Name: "C"}}
	ops := []einsum.CmpOp{einsum.LT, einsum.LE, einsum.GT, einsum.GE, einsum.EQ, einsum.NE}
	rng := rand.New(rand.NewPCG(1, 2))
	closed := 0
	for trial := range 3000 {
		nv := 2 + trial%2
		var conds []cond
		for range 1 + rng.IntN(3) {
			l := lin{c: rng.Int64N(41) - 20, k: map[*einsum.Rank]int64{}}
			for _, v := range vars[:nv] {
				l.k[v] = rng.Int64N(7) - 3
				if trial%3 != 0 {
					l.k[v] = rng.Int64N(3) - 1
				}
			}
			op := ops[rng.IntN(4)]
			if trial%5 == 0 {
				op = ops[rng.IntN(len(ops))]
			}
			conds = append(conds, cond{l: l.trim(), op: op})
		}
		s := newCset(conds)
		if len(s.vars) == 0 {
			continue
		}
		b := make(ibox, len(s.vars))
		for j := range b {
			lo := rng.Int64N(21) - 10
			b[j] = [2]int64{lo, lo + rng.Int64N(15)}
		}
		want := bruteCount(s, b)
		if v, f := splitVar(b); v >= 0 && s.closedForm(f) {
			closed++
		}
		if got := s.count(b); got != want {
			t.Fatalf("conditions %v over %v: count %g, want %g", conds, b, got, want)
		}
		if got := s.any(b); got != (want > 0) {
			t.Fatalf("conditions %v over %v: any %v, want %v", conds, b, got, want > 0)
		}
	}
	if closed < 500 {
		t.Errorf("only %d of the boxes took the closed form", closed)
	}
}
