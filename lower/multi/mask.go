package multi

import (
	"fmt"

	"github.com/fusemax/fusemax/einsum"
)

// A mask is the cascade's filters over the query and key ranks, compiled
// to integer arithmetic on global token indices. A tile of queries × keys
// is skipped whole when one filter fails at all four of its corners: each
// filter is affine in the indices, so where it fails is a half-space, and a
// box whose corners lie in it lies in it entirely.
type mask struct {
	conds []mcond
}

type mterm struct {
	coef   int64
	key    bool  // the key index (else the query index)
	stride int64 // a split part's value is (index / stride) % size
	size   int64 // 0: the whole index
}

type mcond struct {
	terms []mterm
	konst int64
	op    einsum.CmpOp
}

// compileMask collects every filter of the cascade that mentions only the
// query and key ranks (or their split parts). A filter that mentions any
// other variable cannot be decided per tile and is left out: its tiles are
// computed.
func compileMask(c *einsum.Cascade, sizes map[string]int64, query, key string) mask {
	var m mask
	for _, e := range c.Einsums {
		for _, f := range e.Filters {
			if mc, ok := compileCond(f, sizes, query, key); ok {
				m.conds = append(m.conds, mc)
			}
		}
	}
	return m
}

func compileCond(f einsum.Cond, sizes map[string]int64, query, key string) (mcond, bool) {
	mc := mcond{op: f.Op}
	add := func(a einsum.Affine, sign int64) bool {
		mc.konst += sign * a.Const.MustEval(sizes)
		for _, t := range a.Terms {
			root := t.Var.Root().Name
			if root != query && root != key {
				return false
			}
			mt := mterm{coef: sign * t.Coef.MustEval(sizes), key: root == key, stride: 1}
			if t.Var.Parent != nil {
				mt.size = sizes[t.Var.Name]
				for p := t.Var; p.Parent != nil; p = p.Parent {
					parts := p.Parent.Parts
					for i := len(parts) - 1; i >= 0 && parts[i] != p; i-- {
						mt.stride *= sizes[parts[i].Name]
					}
				}
			}
			mc.terms = append(mc.terms, mt)
		}
		return true
	}
	if !add(f.L, 1) || !add(f.R, -1) {
		return mcond{}, false
	}
	return mc, true
}

func (c mcond) holds(q, k int64) bool {
	v := c.konst
	for _, t := range c.terms {
		x := q
		if t.key {
			x = k
		}
		if t.size > 0 {
			x = (x / t.stride) % t.size
		}
		v += t.coef * x
	}
	return c.op.Holds(v, 0)
}

// dead reports whether a box of global indices is masked entirely.
func (m mask) dead(q0, q1, k0, k1 int64) bool {
	for _, c := range m.conds {
		if !c.holds(q0, k0) && !c.holds(q0, k1) && !c.holds(q1, k0) && !c.holds(q1, k1) {
			return true
		}
	}
	return false
}

// layout places a device's local indices in the global sequence.
type layout struct {
	kind  string // ShardRing/ShardDevices: contiguous; Striped: round-robin; ShardReplicated: all
	block int64  // local extent
	group int64  // devices sharing the rank
}

func (l layout) global(pos, a int64) int64 {
	switch l.kind {
	case Striped:
		return a*l.group + pos
	case ShardReplicated:
		return a
	}
	return pos*l.block + a
}

// maxMaskTiles bounds the tile tests of one run, checked before any is made.
const maxMaskTiles = 1 << 24

// liveFraction is the share of a (query block × key block) pair's points
// that lie in tiles the mask does not skip: the work a device does on it.
func (m mask) liveFraction(ql layout, qpos int64, kl layout, kpos int64, tq, tk int64) float64 {
	if len(m.conds) == 0 {
		return 1
	}
	live := 0.0
	for a0 := int64(0); a0 < ql.block; a0 += tq {
		a1 := min(a0+tq, ql.block) - 1
		for b0 := int64(0); b0 < kl.block; b0 += tk {
			b1 := min(b0+tk, kl.block) - 1
			if !m.dead(ql.global(qpos, a0), ql.global(qpos, a1), kl.global(kpos, b0), kl.global(kpos, b1)) {
				live += float64(a1-a0+1) * float64(b1-b0+1)
			}
		}
	}
	return live / (float64(ql.block) * float64(kl.block))
}

// checkTiles bounds the tile tests pairs × tiles-per-pair (none without
// a mask).
func (m mask) checkTiles(pairs, qblock, kblock, tq, tk int64) error {
	if len(m.conds) == 0 {
		return nil
	}
	nq, nk := (qblock+tq-1)/tq, (kblock+tk-1)/tk
	if float64(pairs)*float64(nq)*float64(nk) > maxMaskTiles {
		return fmt.Errorf("mask tiles of %d × %d over blocks of %d × %d on %d block pairs make %.3g tile tests (at most %d): give a larger mask_tile", tq, tk, qblock, kblock, pairs, float64(pairs)*float64(nq)*float64(nk), maxMaskTiles)
	}
	return nil
}
