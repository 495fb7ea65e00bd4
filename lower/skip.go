package lower

import (
	"math"

	"github.com/fusemax/fusemax/einsum"
)

// skipShare is the share of work an Einsum does once masked tiles are
// skipped, at three granularities (see mask.go).
type skipShare struct {
	fine, tile, group float64 // compute; DRAM tiles in the iterate loop; groups
	cells, skipped    int64   // fine cells, and those in which it does no work
	useful            float64 // defined points / points of its iteration space
	masked            bool    // its points are masked (own filter or inherited)
}

// dimCond is a tensor's mask: c + Σ k[i]·dim_i op 0.
type dimCond struct {
	c  int64
	k  []int64
	op einsum.CmpOp
}

// effectiveMasks gives every operation the conditions its points must
// meet: its own filters, and the masks of the tensors it reads,
// substituted through the read's index. A map's conditions become its
// output tensor's mask when they can be said in the output's dimensions.
func (lw *lowering) effectiveMasks() map[*eplan][]cond {
	tmask := map[*einsum.Tensor][]dimCond{}
	out := map[*eplan][]cond{}
	for _, p := range lw.ops {
		e := p.e
		var conds []cond
		for _, f := range e.Filters {
			conds = append(conds, cond{l: affineLin(f.L, lw.sizes).plus(-1, affineLin(f.R, lw.sizes)), op: f.Op})
		}
		for _, a := range e.Reads() {
			for _, dc := range tmask[a.Tensor] {
				l := lin{c: dc.c, k: map[*einsum.Rank]int64{}}
				for i, k := range dc.k {
					if k != 0 {
						l = l.plus(k, affineLin(a.Index[i], lw.sizes))
					}
				}
				conds = append(conds, cond{l: l, op: dc.op})
			}
		}
		out[p] = conds
		// A map's output is undefined wherever its points are; a
		// reduction's only where its own filter says (a fiber of no
		// defined point reduces to the identity).
		outConds := conds
		if len(e.Reductions) > 0 {
			outConds = conds[:len(e.Filters)]
		}
		if t := e.Output.Tensor; len(outConds) > 0 && len(t.Defs) == 1 {
			if m, ok := asDimConds(outConds, e.Output); ok {
				tmask[t] = m
			}
		}
	}
	return out
}

// asDimConds says conds in the dimensions of out, when every variable
// they mention indexes one dimension of out by itself.
func asDimConds(conds []cond, out *einsum.Access) ([]dimCond, bool) {
	pos := map[*einsum.Rank]int{}
	for i, ix := range out.Index {
		if v, ok := ix.IsVar(); ok {
			pos[v] = i
		}
	}
	var m []dimCond
	for _, c := range conds {
		dc := dimCond{c: c.l.c, k: make([]int64, len(out.Index)), op: c.op}
		for v, k := range c.l.k {
			i, ok := pos[v]
			if !ok {
				return nil, false
			}
			dc.k[i] += k
		}
		m = append(m, dc)
	}
	return m, true
}

// gdim is one dimension of the cell grid: a rank cut into cells.
type gdim struct {
	rank  *einsum.Rank
	cell  int64 // points per cell
	cells int64
}

// cellGrid is the grid at one granularity: the tiled ranks in cells of
// cell(rank) points, and the iterate variable one per cell when withLoop.
func (lw *lowering) cellGrid(cell func(r string) int64, withLoop bool) []gdim {
	var g []gdim
	for _, r := range lw.m.TileOrder {
		size, c := lw.sizes[r], cell(r)
		if rk := lw.c.Rank(r); rk != nil && c > 0 && size%c == 0 {
			g = append(g, gdim{rank: rk, cell: c, cells: size / c})
		}
	}
	if withLoop && len(lw.c.Loops) > 0 {
		v := lw.c.Loops[0].Var
		g = append(g, gdim{rank: v, cell: 1, cells: lw.sizes[v.Name]})
	}
	return g
}

// spatialCell is the finest block of rank r one tile operation works on:
// the smallest spatial extent any Einsum gives it, when that divides the
// group tile, else the group tile.
func (lw *lowering) spatialCell(r string) int64 {
	t := lw.extent(r)
	best := t
	for _, p := range lw.ops {
		for _, l := range p.nest.loops {
			if l.spatial && l.rank == r && l.bound < best && t%l.bound == 0 {
				best = l.bound
			}
		}
	}
	return best
}

// pointBox is the points of cs that cells gb of grid g cover; variables
// the grid does not cut range over their rank.
func (lw *lowering) pointBox(cs *cset, g []gdim, gb [][2]int64) ibox {
	b := make(ibox, len(cs.vars))
	for j, v := range cs.vars {
		b[j] = [2]int64{0, lw.sizes[v.Name] - 1}
		for i, d := range g {
			if d.rank == v {
				b[j] = [2]int64{gb[i][0] * d.cell, min((gb[i][1]+1)*d.cell, lw.sizes[v.Name]) - 1}
			}
		}
	}
	return b
}

// classCounts walks the grid and counts its cells by class: the set of
// masks (bit i: sets[i]) with no defined point in the cell. Blocks of
// cells that every mask decides alike are counted at once, so the cost
// grows with the masks' boundaries, not with the grid.
func (lw *lowering) classCounts(g []gdim, sets []*cset) map[uint64]int64 {
	out := map[uint64]int64{}
	var walk func(gb [][2]int64)
	walk = func(gb [][2]int64) {
		var key uint64
		var mixed []int
		for i, cs := range sets {
			switch cs.judge(lw.pointBox(cs, g, gb)) {
			case none:
				key |= 1 << i
			case some:
				mixed = append(mixed, i)
			}
		}
		n, widest := int64(1), -1
		for i, r := range gb {
			n *= r[1] - r[0] + 1
			if r[1] > r[0] && (widest < 0 || r[1]-r[0] > gb[widest][1]-gb[widest][0]) {
				widest = i
			}
		}
		if len(mixed) > 0 && widest >= 0 {
			r := gb[widest]
			mid := r[0] + (r[1]-r[0])/2
			gb[widest] = [2]int64{r[0], mid}
			walk(gb)
			gb[widest] = [2]int64{mid + 1, r[1]}
			walk(gb)
			gb[widest] = r
			return
		}
		for _, i := range mixed {
			if !sets[i].any(lw.pointBox(sets[i], g, gb)) {
				key |= 1 << i
			}
		}
		out[key] += n
	}
	gb := make([][2]int64, len(g))
	for i, d := range g {
		gb[i] = [2]int64{0, d.cells - 1}
	}
	walk(gb)
	return out
}

// skipShares computes every operation's skipShare; nil when no Einsum is
// masked (every share 1).
func (lw *lowering) skipShares() map[*eplan]*skipShare {
	conds := lw.effectiveMasks()
	// Einsums whose masks are the same share one condition set (QK's mask
	// reaches LM, SLN, SLD and SLNV unchanged).
	byKey := map[string]int{}
	var sets []*cset
	setOf := map[*eplan]int{}
	for _, p := range lw.ops {
		if len(conds[p]) == 0 {
			continue
		}
		cs := newCset(conds[p])
		i, ok := byKey[cs.key()]
		if !ok {
			if len(sets) == 64 {
				continue // beyond 64 distinct masks: charged in full
			}
			i = len(sets)
			byKey[cs.key()] = i
			sets = append(sets, cs)
		}
		setOf[p] = i
	}
	if len(sets) == 0 {
		return nil
	}
	useful := make([]float64, len(sets))
	for i, cs := range sets {
		b := lw.pointBox(cs, nil, nil)
		useful[i] = cs.count(b) / volume(b)
	}
	out := map[*eplan]*skipShare{}
	for _, p := range lw.ops {
		sh := &skipShare{useful: 1}
		if i, ok := setOf[p]; ok {
			sh.masked, sh.useful = true, useful[i]
		}
		out[p] = sh
	}
	grids := []struct {
		g   []gdim
		set func(*skipShare, float64, int64, int64)
	}{
		{lw.cellGrid(lw.spatialCell, true), func(s *skipShare, f float64, n, k int64) { s.fine, s.cells, s.skipped = f, n, n-k }},
		{lw.cellGrid(lw.extent, true), func(s *skipShare, f float64, _, _ int64) { s.tile = f }},
		{lw.cellGrid(lw.extent, false), func(s *skipShare, f float64, _, _ int64) { s.group = f }},
	}
	for _, gr := range grids {
		total := int64(1)
		for _, d := range gr.g {
			total *= d.cells
		}
		active := map[*eplan]int64{}
		for key, n := range lw.classCounts(gr.g, sets) {
			empty := map[*eplan]bool{}
			for p, i := range setOf {
				empty[p] = key&(1<<i) != 0
			}
			for p := range lw.workingOps(empty) {
				active[p] += n
			}
		}
		for _, p := range lw.ops {
			gr.set(out[p], float64(active[p])/float64(total), total, active[p])
		}
	}
	return out
}

// aval is an abstract value of a tensor in one class of cells.
type aval struct {
	kind int // unknownV, emptyV, constV, symV
	c    float64
	sym  *einsum.Tensor // symV: the tensor's value at the previous iteration
}

const (
	unknownV = iota
	emptyV
	constV
	symV
)

// workingOps evaluates the cascade abstractly for a class of cells in
// which the operations marked in empty have no defined point, and returns
// those that still do work: those whose result is not known without it.
func (lw *lowering) workingOps(empty map[*eplan]bool) map[*eplan]bool {
	vals := map[*einsum.Tensor]aval{}
	work := map[*eplan]bool{}
	for _, p := range lw.ops {
		v := lw.evalOp(p, empty[p], vals)
		if v.kind == unknownV {
			work[p] = true
		}
		if t := p.e.Output.Tensor; v.kind != emptyV || vals[t].kind == unknownV {
			vals[t] = v
		}
	}
	return work
}

func (lw *lowering) evalOp(p *eplan, isEmpty bool, vals map[*einsum.Tensor]aval) aval {
	e := p.e
	if len(e.Reductions) == 0 {
		if isEmpty {
			return aval{kind: emptyV}
		}
		return lw.evalExpr(p, e.Expr, vals)
	}
	inner := e.Reductions[len(e.Reductions)-1].Op
	x := aval{kind: emptyV}
	if !isEmpty {
		x = lw.evalExpr(p, e.Expr, vals)
	}
	switch {
	case x.kind == emptyV && !lw.reducesGridRank(e):
		return aval{kind: constV, c: inner.Identity()}
	case x.kind == constV && (inner != einsum.Sum || x.c == 0):
		return x // max or min of one value; a sum of zeros
	case x.kind == symV && inner != einsum.Sum:
		return x
	}
	return aval{}
}

// reducesGridRank reports whether e reduces a rank the cell grid cuts: a
// cell then holds part of a reduction, whose result is not its identity.
func (lw *lowering) reducesGridRank(e *einsum.Einsum) bool {
	for _, v := range e.ReducedVars() {
		if _, tiled := lw.tile[v.Name]; tiled {
			return true
		}
	}
	return false
}

func (lw *lowering) evalExpr(p *eplan, x einsum.Expr, vals map[*einsum.Tensor]aval) aval {
	switch x := x.(type) {
	case *einsum.Const:
		return aval{kind: constV, c: x.Value}
	case *einsum.SizeValue:
		return aval{kind: constV, c: float64(lw.sizes[x.Rank.Name])}
	case *einsum.Read:
		return lw.evalRead(p, x.Access, vals)
	case *einsum.Unary:
		a := lw.evalExpr(p, x.X, vals)
		if a.kind == constV {
			return aval{kind: constV, c: x.Op.Apply(a.c)}
		}
		if a.kind == emptyV {
			return a
		}
	case *einsum.Binary:
		return binaryAval(x.Op, lw.evalExpr(p, x.X, vals), lw.evalExpr(p, x.Y, vals))
	}
	return aval{}
}

// binaryAval folds an operator over abstract values: constants, and the
// identities that leave a state as it was.
func binaryAval(op einsum.BinaryOp, a, b aval) aval {
	is := func(v aval, c float64) bool { return v.kind == constV && v.c == c }
	switch {
	case a.kind == emptyV || b.kind == emptyV:
		return aval{kind: emptyV}
	case a.kind == constV && b.kind == constV:
		return aval{kind: constV, c: op.Apply(a.c, b.c)}
	}
	same := a.kind == symV && b.kind == symV && a.sym == b.sym
	switch op {
	case einsum.Add:
		if is(a, 0) {
			return b
		}
		if is(b, 0) {
			return a
		}
	case einsum.Sub:
		if same {
			return aval{kind: constV, c: 0}
		}
		if is(b, 0) {
			return a
		}
	case einsum.Mul:
		if is(a, 1) {
			return b
		}
		if is(b, 1) {
			return a
		}
	case einsum.Div:
		if is(b, 1) {
			return a
		}
	case einsum.MaxOf:
		if is(a, math.Inf(-1)) || same {
			return b
		}
		if is(b, math.Inf(-1)) {
			return a
		}
	case einsum.MinOf:
		if is(a, math.Inf(1)) || same {
			return b
		}
		if is(b, math.Inf(1)) {
			return a
		}
	}
	return aval{}
}

// evalRead is the abstract value a read sees: this iteration's value of a
// tensor the iterate body wrote before it, the previous iteration's (a
// symbol: unchanged state compares equal to itself) for a recurrence,
// unknown for anything else.
func (lw *lowering) evalRead(p *eplan, a *einsum.Access, vals map[*einsum.Tensor]aval) aval {
	t := a.Tensor
	var w *eplan
	for _, d := range t.Defs {
		if q, ok := lw.opOf[d]; ok {
			w = q
		}
	}
	if w == nil || !w.inLoop || !p.inLoop {
		return aval{}
	}
	if distance(p.e.Loop.Var, w.e.Output, a) > 0 {
		return aval{kind: symV, sym: t}
	}
	return vals[t]
}
