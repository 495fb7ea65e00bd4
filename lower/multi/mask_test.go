package multi

import (
	"math/rand/v2"
	"testing"

	"github.com/fusemax/fusemax/einsum"
)

// TestLiveKeysBisection: finding a row's skipped tiles by bisection gives
// what testing every tile gives, on random conditions (orders and, now and
// then, equalities; whole indices and split parts that wrap) over every
// layout, block and tile size; enough of them take the bisection.
func TestLiveKeysBisection(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ops := []einsum.CmpOp{einsum.LT, einsum.LE, einsum.GT, einsum.GE, einsum.EQ, einsum.NE}
	kinds := []string{ShardRing, Striped, ShardReplicated}
	bisected := 0
	for trial := range 6000 {
		var m mask
		for range 1 + rng.IntN(3) {
			c := mcond{konst: rng.Int64N(201) - 100, op: ops[rng.IntN(4)]}
			if trial%7 == 0 {
				c.op = ops[rng.IntN(len(ops))]
			}
			for _, key := range []bool{false, true, true} {
				if rng.IntN(3) == 0 {
					continue
				}
				mt := mterm{coef: rng.Int64N(4), key: key, stride: 1}
				if trial%3 == 0 {
					mt.coef = rng.Int64N(7) - 3
				}
				if rng.IntN(3) == 0 {
					mt.stride, mt.size = 1+rng.Int64N(4), 1+rng.Int64N(12)
				}
				c.terms = append(c.terms, mt)
			}
			m.conds = append(m.conds, c)
		}
		kl := layout{kind: kinds[rng.IntN(len(kinds))], block: 1 + rng.Int64N(60), group: 1 + rng.Int64N(4)}
		kpos, tk := rng.Int64N(kl.group), 1+rng.Int64N(9)
		q0 := rng.Int64N(120) - 10
		q1 := q0 + rng.Int64N(9)
		n := (kl.block + tk - 1) / tk
		if _, ok := m.rowPieces(n, [2]func(int64) int64{
			func(j int64) int64 { return kl.global(kpos, j*tk) },
			func(j int64) int64 { return kl.global(kpos, min((j+1)*tk, kl.block)-1) },
		}); ok {
			bisected++
		}
		if got, want := m.liveKeys(q0, q1, kl, kpos, tk), m.liveKeysEach(q0, q1, kl, kpos, tk); got != want {
			t.Fatalf("trial %d: %+v, keys %+v at %d, tiles of %d, queries [%d, %d]: %d live keys, want %d",
				trial, m.conds, kl, kpos, tk, q0, q1, got, want)
		}
	}
	// 2·⌊k/2⌋ − k ≥ 0 holds at even keys only: not monotone, so a row of
	// single-key tiles must be tested tile by tile (6 of 12 live).
	even := mask{conds: []mcond{{op: einsum.GE, terms: []mterm{
		{coef: 2, key: true, stride: 2, size: 1000}, {coef: -1, key: true, stride: 1}}}}}
	if got := even.liveKeys(0, 0, layout{kind: ShardRing, block: 12, group: 1}, 0, 1); got != 6 {
		t.Errorf("even keys: %d live, want 6", got)
	}
	if bisected < 2000 {
		t.Errorf("only %d of the rows took the bisection", bisected)
	}
}
