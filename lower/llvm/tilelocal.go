package llvm

import (
	"slices"

	"github.com/fusemax/fusemax/einsum"
)

// planTileLocal lets a tiled block's working memory not grow with the
// hoisted rank. The top-level statements right before the block (its seeds,
// RM[0, p] = -inf) and right after it (the final AV = RNV / RD) move into
// the tile loop when, with them, every statement still loops over the rank
// and never meets another tile's values; then an intermediate accessed only
// inside the tile loop is stored one tile wide (RNV[f, 2, p] keeps 2·F·128
// values whatever P is). Values do not change: each tile runs the same
// statements on its own points in the same order.
func (p *plan) planTileLocal(t tiling) {
	l, r := t.loop, t.rank
	first := indexOfEinsum(p.c, l.Body[0])
	last := indexOfEinsum(p.c, l.Body[len(l.Body)-1])
	body := slices.Clone(l.Body)
	ok := func(es []*einsum.Einsum) bool {
		written := map[*einsum.Tensor]bool{}
		for _, e := range es {
			written[e.Output.Tensor] = true
		}
		return independentOver(es, r, written)
	}
	transparent := func(e *einsum.Einsum) bool { return p.sunkIn[e] != nil || p.skip[e] }
	var pre, post []*einsum.Einsum
	for i := first - 1; i >= 0; i-- {
		e := p.c.Einsums[i]
		if transparent(e) {
			continue
		}
		if e.Loop != nil || !ok(append([]*einsum.Einsum{e}, body...)) {
			break
		}
		pre = append([]*einsum.Einsum{e}, pre...)
		body = append([]*einsum.Einsum{e}, body...)
	}
	for i := last + 1; i < len(p.c.Einsums); i++ {
		e := p.c.Einsums[i]
		if transparent(e) {
			continue
		}
		if e.Loop != nil || !ok(append(slices.Clone(body), e)) {
			break
		}
		post = append(post, e)
		body = append(body, e)
	}
	p.tilePre[l], p.tilePost[l] = pre, post
	for _, e := range append(slices.Clone(pre), post...) {
		p.moved[e] = true
	}
	in := map[*einsum.Einsum]bool{}
	for _, e := range append(body, p.sunk[l]...) {
		in[e] = true
	}
	for _, tn := range p.c.Tensors {
		p.tileStore(p.store[tn], t, in)
	}
}

// tileStore stores s one tile wide in the hoisted rank's dimension when
// every access to it is among the statements in and indexes that
// dimension by the plain variable.
func (p *plan) tileStore(s *storage, t tiling, in map[*einsum.Einsum]bool) {
	tn := s.t
	if tn.Kind != einsum.Intermediate || s.tracked && s.clearLoop == nil || s.viewOf != nil {
		return
	}
	for _, o := range p.store {
		if o.viewOf == s {
			return
		}
	}
	dim := -1
	for d, x := range tn.Dims {
		if x.Rank.Root() == t.rank {
			if dim >= 0 {
				return
			}
			dim = d
		}
	}
	if dim < 0 {
		return
	}
	acc, where := accesses(p.c, tn)
	for i, a := range acc {
		if !in[where[i]] {
			return
		}
		if v, ok := a.Index[dim].IsVar(); !ok || v != t.rank {
			return
		}
	}
	s.tileRank, s.tileDim = t.rank, dim
	s.extents[dim] = min(s.extents[dim], t.size)
}
