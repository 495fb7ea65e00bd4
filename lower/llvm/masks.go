package llvm

import (
	"github.com/llir/llvm/ir/value"

	"github.com/fusemax/fusemax/einsum"
)

// planMaskRing keeps a ring of slices, as planRing does, for a tensor that
// may be partly defined (QK[m1, m0: m1*M0 + m0 <= p, p] of causal 1-pass
// attention), so that filtered cascades do not grow with the iterated rank
// either. Reusing a slot needs its definedness mask cleared first, or a
// point of an older slice would read as defined: every definition must be
// inside one block and write slice var+c with the same c, and the ring
// dimension must be outermost in storage, so that each step clears its
// slot, one contiguous run of the mask, before the body runs.
func (p *plan) planMaskRing(s *storage) {
	t := s.t
	var loop *einsum.Loop
	var at int64
	for i, e := range t.Defs {
		if e.Loop == nil || loop != nil && e.Loop != loop {
			return
		}
		loop = e.Loop
		c, ok := p.plainOffset(e.Output.Index[0], loop.Var)
		if !ok || i > 0 && c != at {
			return
		}
		at = c
	}
	if loop == nil {
		return
	}
	extents := append([]int64{}, s.extents...)
	p.planRing(s)
	for d := 1; d < len(s.ring); d++ {
		if s.ring[d] != 0 {
			s.ring[d], s.extents[d] = 0, extents[d]
		}
	}
	if s.ring[0] != 0 {
		s.clearLoop, s.clearAt = loop, at
	}
}

// plainOffset reads x as v + c and returns c.
func (p *plan) plainOffset(x einsum.Affine, v *einsum.Rank) (int64, bool) {
	if len(x.Terms) != 1 || x.Terms[0].Var != v {
		return 0, false
	}
	if k, ok := x.Terms[0].Coef.IsConst(); !ok || k != 1 {
		return 0, false
	}
	return p.eval(x.Const), true
}

// clearSlots clears, at the start of a step of l with variable value v,
// the mask slot each ringed partly defined tensor is about to write.
func (g *gen) clearSlots(l *einsum.Loop, v value.Value) {
	for _, t := range g.p.c.Tensors {
		s := g.p.store[t]
		if s.clearLoop != l {
			continue
		}
		var off value.Value = i64(0)
		if k := s.ring[0]; k > 1 {
			slot := g.b.NewURem(g.b.NewAdd(v, i64(s.clearAt)), i64(k))
			off = g.b.NewMul(slot, i64(s.strides[0]))
		}
		g.memset(g.gep(g.mask[t], off), 0, s.strides[0])
	}
}
