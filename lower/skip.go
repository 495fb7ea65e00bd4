package lower

import (
	"fmt"
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

// dimLin is an integer affine form over a tensor's dimensions:
// c + Σ k[i]·dim_i.
type dimLin struct {
	c int64
	k []int64
}

// at is the form at a read of the tensor: each dimension replaced by the
// read's index in that dimension, a form over the reader's variables.
func (d dimLin) at(a *einsum.Access, sizes map[string]int64) lin {
	l := lin{c: d.c, k: map[*einsum.Rank]int64{}}
	for i, k := range d.k {
		if k != 0 {
			l = l.plus(k, affineLin(a.Index[i], sizes))
		}
	}
	return l
}

// toDimLin says l in the dimensions of out, when every variable it
// mentions indexes one dimension of out by itself (pos).
func toDimLin(l lin, pos map[*einsum.Rank]int, n int) (dimLin, bool) {
	d := dimLin{c: l.c, k: make([]int64, n)}
	for v, k := range l.k {
		i, ok := pos[v]
		if !ok {
			return dimLin{}, false
		}
		d.k[i] += k
	}
	return d, true
}

// dimCond is a tensor's mask: c + Σ k[i]·dim_i op 0.
type dimCond struct {
	dimLin
	op einsum.CmpOp
}

// opMask is what an operation's points must meet: affine conditions, and
// the data-dependent predicates of datamask.go.
type opMask struct {
	conds []cond
	data  []*dpred
}

// tensorMask is a tensor's mask in its own dimensions.
type tensorMask struct {
	conds []dimCond
	data  []dimPred
}

// effectiveMasks gives every operation the conditions its points must
// meet: its own filters, and the masks of the tensors it reads,
// substituted through the read's index. A map's conditions become its
// output tensor's mask when they can be said in the output's dimensions.
func (lw *lowering) effectiveMasks() map[*eplan]opMask {
	tmask := map[*einsum.Tensor]tensorMask{}
	out := map[*eplan]opMask{}
	for _, p := range lw.ops {
		e := p.e
		var m opMask
		for _, f := range e.Filters {
			if f.Data != nil {
				if d := lw.filterPred(e, f); d != nil {
					m.data = append(m.data, d)
				}
				continue
			}
			m.conds = append(m.conds, cond{l: affineLin(f.L, lw.sizes).plus(-1, affineLin(f.R, lw.sizes)), op: f.Op})
		}
		own := m
		for _, a := range e.Reads() {
			tm := tmask[a.Tensor]
			for _, dc := range tm.conds {
				m.conds = append(m.conds, cond{l: dc.at(a, lw.sizes), op: dc.op})
			}
			for _, dp := range tm.data {
				m.data = append(m.data, dp.at(a, lw.sizes))
			}
		}
		out[p] = m
		// A map's output is undefined wherever its points are; a
		// reduction's only where its own filter says (a fiber of no
		// defined point reduces to the identity).
		outMask := m
		if len(e.Reductions) > 0 {
			outMask = own
		}
		if t := e.Output.Tensor; len(t.Defs) == 1 {
			if tm, ok := asTensorMask(outMask, e.Output); ok {
				tmask[t] = tm
			}
		}
	}
	return out
}

// asTensorMask says m in the dimensions of out, when every variable it
// mentions indexes one dimension of out by itself.
func asTensorMask(m opMask, out *einsum.Access) (tensorMask, bool) {
	pos := map[*einsum.Rank]int{}
	for i, ix := range out.Index {
		if v, ok := ix.IsVar(); ok {
			pos[v] = i
		}
	}
	var tm tensorMask
	for _, c := range m.conds {
		d, ok := toDimLin(c.l, pos, len(out.Index))
		if !ok {
			return tensorMask{}, false
		}
		tm.conds = append(tm.conds, dimCond{dimLin: d, op: c.op})
	}
	for _, p := range m.data {
		d, ok := p.inDims(pos, len(out.Index))
		if !ok {
			return tensorMask{}, false
		}
		tm.data = append(tm.data, d)
	}
	return tm, len(tm.conds)+len(tm.data) > 0
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

// varBox is the points of vars that cells gb of grid g cover; variables
// the grid does not cut range over their rank.
func (lw *lowering) varBox(vars []*einsum.Rank, g []gdim, gb [][2]int64) ibox {
	return lw.fillBox(make(ibox, len(vars)), vars, g, gb)
}

// fillBox is varBox written into b (one range per variable), for walks
// that judge a box per cell.
func (lw *lowering) fillBox(b ibox, vars []*einsum.Rank, g []gdim, gb [][2]int64) ibox {
	for j, v := range vars {
		b[j] = [2]int64{0, lw.sizes[v.Name] - 1}
		for i, d := range g {
			if d.rank == v {
				b[j] = [2]int64{gb[i][0] * d.cell, min((gb[i][1]+1)*d.cell, lw.sizes[v.Name]) - 1}
			}
		}
	}
	return b
}

// mask is one distinct mask of the operations: affine conditions (nil:
// none) and data predicates (bit j: the j-th of the masks' predicates).
type mask struct {
	aff  *cset
	data uint64
	box  ibox // scratch for a box over aff's variables
}

// judgeAffine is, over cells gb, the masks whose affine conditions leave
// no point (bits of key) and those they leave undecided (mixed).
func (lw *lowering) judgeAffine(g []gdim, gb [][2]int64, ms []mask) (key uint64, mixed []int) {
	for i, m := range ms {
		if m.aff == nil {
			continue
		}
		switch m.aff.judge(lw.fillBox(m.box, m.aff.vars, g, gb)) {
		case none:
			key |= 1 << i
		case some:
			mixed = append(mixed, i)
		}
	}
	return key, mixed
}

// classCounts walks the grid and counts its cells by class: the set of
// masks (bit i: ms[i]) with no defined point in the cell. Blocks of cells
// that every affine mask decides alike are counted at once, so the cost
// grows with the masks' boundaries, not with the grid; data predicates
// split a block by what the selection tensors say (dataStates), an
// expected count for a declared density.
func (lw *lowering) classCounts(g []gdim, ms []mask, preds []*dpred, sds []*selData) map[uint64]float64 {
	out := map[uint64]float64{}
	var walk func(gb [][2]int64)
	walk = func(gb [][2]int64) {
		key, mixed := lw.judgeAffine(g, gb, ms)
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
			if !ms[i].aff.any(lw.fillBox(ms[i].box, ms[i].aff.vars, g, gb)) {
				key |= 1 << i
			}
		}
		var open uint64 // the data predicates of masks not yet empty
		for i, m := range ms {
			if key&(1<<i) == 0 {
				open |= m.data
			}
		}
		if open == 0 {
			out[key] += float64(n)
			return
		}
		// A mask whose affine conditions cut this cell and whose selection
		// is a tensor is decided jointly: some selected element must meet
		// a point the affine conditions allow.
		var joint uint64
		for _, i := range mixed {
			if key&(1<<i) == 0 && !lw.jointAny(ms[i], g, gb, preds, sds) {
				joint |= 1 << i
			}
		}
		for st, c := range lw.dataStates(g, gb, preds, sds, open) {
			k := key
			for i, m := range ms {
				if m.data&st != 0 || joint&(1<<i) != 0 {
					k |= 1 << i
				}
			}
			out[k] += c
		}
	}
	gb := make([][2]int64, len(g))
	for i, d := range g {
		gb[i] = [2]int64{0, d.cells - 1}
	}
	walk(gb)
	return out
}

// maskSet is the distinct masks of the operations and the predicates
// they use.
type maskSet struct {
	ms     []mask
	preds  []*dpred
	sds    []*selData // what is known of each predicate's tensor
	of     map[*eplan]int
	useful []float64 // per mask: the share of points defined
}

// collectMasks gathers the operations' masks; Einsums whose masks are the
// same share one (QK's reaches LM, SLN, SLD and SLNV unchanged).
func (lw *lowering) collectMasks() (*maskSet, error) {
	eff := lw.effectiveMasks()
	s := &maskSet{of: map[*eplan]int{}}
	byKey, predKey := map[string]int{}, map[string]int{}
	for _, p := range lw.ops {
		om := eff[p]
		var m mask
		key := ""
		if len(om.conds) > 0 {
			m.aff = newCset(om.conds)
			m.box = make(ibox, len(m.aff.vars))
			key = m.aff.key()
		}
		dens := 1.0
		for _, d := range om.data {
			sd, err := lw.selection(d)
			if err != nil {
				return nil, err
			}
			if sd.dense {
				continue
			}
			j, ok := predKey[d.key()]
			if !ok {
				if len(s.preds) == 64 {
					continue // beyond 64 distinct predicates: charged in full
				}
				j = len(s.preds)
				predKey[d.key()] = j
				s.preds, s.sds = append(s.preds, d), append(s.sds, sd)
			}
			m.data |= 1 << j
			dens *= sd.density
		}
		if m.aff == nil && m.data == 0 {
			continue
		}
		key += fmt.Sprintf("|%x", m.data)
		i, ok := byKey[key]
		if !ok {
			if len(s.ms) == 64 {
				continue // beyond 64 distinct masks: charged in full
			}
			i = len(s.ms)
			byKey[key] = i
			s.ms = append(s.ms, m)
			u := 1.0
			if m.aff != nil {
				b := lw.varBox(m.aff.vars, nil, nil)
				u = m.aff.count(b) / volume(b)
			}
			s.useful = append(s.useful, u*dens)
		}
		s.of[p] = i
	}
	return s, nil
}

// skipShares computes every operation's skipShare; nil when no Einsum is
// masked (every share 1).
func (lw *lowering) skipShares() (map[*eplan]*skipShare, error) {
	s, err := lw.collectMasks()
	if err != nil || len(s.ms) == 0 {
		return nil, err
	}
	out := map[*eplan]*skipShare{}
	for _, p := range lw.ops {
		sh := &skipShare{useful: 1}
		if i, ok := s.of[p]; ok {
			sh.masked, sh.useful = true, s.useful[i]
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
	lw.noteTileElements(grids[0].g, s)
	for _, gr := range grids {
		if err := lw.checkDataCells(gr.g, s); err != nil {
			return nil, err
		}
		total := int64(1)
		for _, d := range gr.g {
			total *= d.cells
		}
		active := map[*eplan]float64{}
		for key, n := range lw.classCounts(gr.g, s.ms, s.preds, s.sds) {
			empty := map[*eplan]bool{}
			for p, i := range s.of {
				empty[p] = key&(1<<i) != 0
			}
			for p := range lw.workingOps(empty) {
				active[p] += n
			}
		}
		for _, p := range lw.ops {
			gr.set(out[p], active[p]/float64(total), total, int64(math.Round(active[p])))
		}
	}
	return out, nil
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
