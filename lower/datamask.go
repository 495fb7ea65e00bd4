package lower

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/fusemax/fusemax/einsum"
)

// Data-dependent filters (S[m1, m0: Sel[m1, p] > 0, p] = ...) skip what a
// selection tensor leaves out, so which tiles they skip depends on the
// tensor's values. A design point knows them one of four ways, and the
// report says which (SelectionUse):
//
//   - from the tensor (Options.Selections with Load: `simulate --input
//     Sel=sel.npy`): a tile is skipped when no element of Sel it reads
//     satisfies the filter, counted exactly, tile by tile;
//   - from a declared density d (`--density Sel=0.25`): each element of Sel
//     satisfies the filter independently with probability d, so a tile
//     that reads n distinct elements of Sel has no defined point with
//     probability (1-d)^n and the expected number of skipped tiles is
//     counted: with one element per tile (a block of Sel as large as the
//     tile) a share d of the tiles is worked, with n elements per tile
//     1-(1-d)^n;
//   - from a top-k selection computed in the cascade (MoBA's Sel = G ::
//     topk(m1, T)): T of the n values along the selected rank are 1, the
//     rest 0, and the density is T/n on that basis (the same independence
//     model: which blocks the top-k picks is data too);
//   - else assumed dense, with a warning: every tile is worked.
//
// The image of a tile in Sel is taken as a box: the range of each index of
// the read over the tile's points (exact for plain and split indices, such
// as Sel[m1, p] or Sel[m1*M0 + m0]; a bound otherwise, so a tile may be
// charged that could be skipped, never the reverse). An Einsum with both
// affine and data conditions is skipped in a tile when either leaves no
// point there; where the affine conditions cut the tile and the selection
// is a tensor, they are decided together (jointAny); with a density, a
// tile where each leaves some point is charged.
// Its useful fraction is the affine share times each predicate's density
// (independence).

// Selection is what a caller knows of a tensor a data-dependent filter
// reads: its values (Load) or a declared density.
type Selection struct {
	// Load returns the tensor's elements, row-major in its declared
	// dimension order, for the shape the cascade gives it at this design
	// point; it should check that shape before reading (a file's header).
	// Nil when only a density is declared.
	Load func(shape []int) ([]float64, error)
	// Source names where the values come from (a file), for the report.
	Source string
	// Density, without Load, is the share of the tensor's elements at which
	// a filter reading it holds, in [0, 1].
	Density float64
}

// How a design point costed a selection tensor (SelectionUse.From).
const (
	SelectionFromTensor  = "tensor"
	SelectionFromDensity = "declared density"
	SelectionFromTopK    = "top-k density"
	SelectionDense       = "assumed dense"
)

// SelectionUse is how a design point costed one tensor that a
// data-dependent filter reads.
type SelectionUse struct {
	Tensor string `json:"tensor"`
	From   string `json:"from"`             // one of the SelectionFrom... constants, or SelectionDense
	Source string `json:"source,omitempty"` // the file the values came from
	// Density is the share of its elements at which the filter holds (1
	// when assumed dense).
	Density float64 `json:"density"`
	// ElementsPerTile is how many of its elements one tile of the skip
	// grid reads (its first tile): under a density d such a tile is empty
	// with probability (1-d)^ElementsPerTile.
	ElementsPerTile float64 `json:"elements_per_tile,omitempty"`
}

// DataFilterTensors lists, sorted, the tensors a data-dependent filter of
// c reads: those a Selection can describe.
func DataFilterTensors(c *einsum.Cascade) []string {
	var out []string
	for _, e := range c.Einsums {
		for _, f := range e.Filters {
			if f.Data == nil {
				continue
			}
			for _, x := range []einsum.Expr{f.Data.X, f.Data.Y} {
				if r, ok := x.(*einsum.Read); ok && !slices.Contains(out, r.Access.Tensor.Name) {
					out = append(out, r.Access.Tensor.Name)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// decidesFilter reports whether access a of e is only a data filter's
// read (Sel in QK[m1, m0: Sel[m1, p] > 0, p]): what a tile's skipping is
// decided by, so it is read even for a tile that is then skipped.
func decidesFilter(e *einsum.Einsum, a *einsum.Access) bool {
	for _, f := range e.Filters {
		if f.Data == nil {
			continue
		}
		for _, x := range []einsum.Expr{f.Data.X, f.Data.Y} {
			if r, ok := x.(*einsum.Read); ok && r.Access == a {
				return true
			}
		}
	}
	return false
}

// dpred is a data-dependent predicate over an operation's points: the
// element of t at index (forms over the operation's variables) compared
// with a constant.
type dpred struct {
	t     *einsum.Tensor
	index []lin
	op    einsum.CmpOp
	c     float64
	left  bool // t op c; else c op t
}

// dimPred is a dpred in a tensor's own dimensions, as a mask it carries.
type dimPred struct {
	p     *dpred // t, op, c, left; index unused
	index []dimLin
}

func (d *dpred) holds(v float64) bool {
	if d.left {
		return d.op.HoldsValue(v, d.c)
	}
	return d.op.HoldsValue(d.c, v)
}

func (d *dpred) key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %v %v %g [", d.t.Name, d.left, d.op, d.c)
	for _, l := range d.index {
		b.WriteString(linKey(l) + ";")
	}
	return b.String()
}

// linKey is a deterministic text of l (its variables by name).
func linKey(l lin) string {
	vars := make([]*einsum.Rank, 0, len(l.k))
	for v := range l.k {
		vars = append(vars, v)
	}
	slices.SortFunc(vars, func(a, b *einsum.Rank) int { return strings.Compare(a.Name, b.Name) })
	s := fmt.Sprint(l.c)
	for _, v := range vars {
		s += fmt.Sprintf("%+d·%s", l.k[v], v.Name)
	}
	return s
}

func (d *dpred) inDims(pos map[*einsum.Rank]int, n int) (dimPred, bool) {
	out := dimPred{p: d}
	for _, l := range d.index {
		dl, ok := toDimLin(l, pos, n)
		if !ok {
			return dimPred{}, false
		}
		out.index = append(out.index, dl)
	}
	return out, true
}

func (d dimPred) at(a *einsum.Access, sizes map[string]int64) *dpred {
	p := *d.p
	p.index = nil
	for _, dl := range d.index {
		p.index = append(p.index, dl.at(a, sizes))
	}
	return &p
}

// filterPred is the predicate of data filter f of e; nil (with a warning)
// when it compares two tensors, which no selection describes: the filter
// is then costed dense.
func (lw *lowering) filterPred(e *einsum.Einsum, f einsum.Cond) *dpred {
	r, left := f.Data.X.(*einsum.Read)
	k, isConst := f.Data.Y.(*einsum.Const)
	if !left {
		r, _ = f.Data.Y.(*einsum.Read)
		k, isConst = f.Data.X.(*einsum.Const)
	}
	if !isConst {
		unused := ""
		for _, x := range []einsum.Expr{f.Data.X, f.Data.Y} {
			if r, ok := x.(*einsum.Read); ok {
				if _, given := lw.opt.Selections[r.Access.Tensor.Name]; given {
					unused += fmt.Sprintf("; the values or density given for %s are not used", r.Access.Tensor.Name)
				}
			}
		}
		lw.warn("Einsum %s (%s): the filter %s compares two tensors; its points are costed as if all were defined (dense)%s", e.Name(), f.Pos, f, unused)
		return nil
	}
	d := &dpred{t: r.Access.Tensor, op: f.Op, c: k.Value, left: left}
	for _, ix := range r.Access.Index {
		d.index = append(d.index, affineLin(ix, lw.sizes))
	}
	return d
}

// SelectionError is a selection the lowering could not use (its file
// unreadable or of another shape, a density out of range): an error of the
// inputs, the same under every mapping.
type SelectionError struct{ Err error }

func (e *SelectionError) Error() string { return e.Err.Error() }
func (e *SelectionError) Unwrap() error { return e.Err }

// selData is what the lowering knows of one selection tensor's values.
type selData struct {
	use     SelectionUse
	values  []float64          // exact, when given
	prefix  map[string][]int64 // per comparison: prefix counts of the elements satisfying it
	strides []int64
	shape   []int64
	density float64 // else: an element satisfies the filter with this probability
	dense   bool    // nothing known: never skipped
}

// maxDataCells bounds the tiles a selection tensor is examined in, per
// grid: each is a look at its elements.
const maxDataCells = 1 << 24

// selection resolves what is known of tensor t for predicate d (once per
// tensor per lowering).
func (lw *lowering) selection(d *dpred) (*selData, error) {
	if sd, ok := lw.sels[d.t]; ok {
		return sd, nil
	}
	t := d.t
	sd := &selData{use: SelectionUse{Tensor: t.Name}}
	shape := t.Shape(lw.sizes)
	sd.shape = make([]int64, len(shape))
	sd.strides = make([]int64, len(shape))
	st := int64(1)
	for i := len(shape) - 1; i >= 0; i-- {
		sd.shape[i], sd.strides[i] = int64(shape[i]), st
		st *= int64(shape[i])
	}
	sel, given := lw.opt.Selections[t.Name]
	switch {
	case given && sel.Load != nil:
		key := fmt.Sprint(t.Name, shape)
		if c, ok := lw.opt.selCache[key]; ok {
			sd.values, sd.prefix, sd.use = c.values, c.prefix, c.use
			break
		}
		vals, err := sel.Load(shape)
		if err != nil {
			return nil, &SelectionError{err}
		}
		if int64(len(vals)) != st {
			return nil, &SelectionError{fmt.Errorf("selection %s: %d values for shape %v", t.Name, len(vals), shape)}
		}
		sd.values, sd.use.From, sd.use.Source = vals, SelectionFromTensor, sel.Source
		if pre := sd.prefixFor(d); len(pre) > 0 {
			sd.use.Density = float64(pre[len(pre)-1]) / float64(len(pre))
		}
		if lw.opt.selCache != nil {
			lw.opt.selCache[key] = sd
		}
	case given:
		if !(sel.Density >= 0 && sel.Density <= 1) {
			return nil, &SelectionError{fmt.Errorf("selection %s: density %g is not in [0, 1]", t.Name, sel.Density)}
		}
		sd.density, sd.use.From = sel.Density, SelectionFromDensity
	default:
		if k, ok := lw.topKDensity(d); ok {
			sd.density, sd.use.From = k, SelectionFromTopK
			break
		}
		sd.dense, sd.density, sd.use.From = true, 1, SelectionDense
		lw.warn("a data filter reads %s (declared at %s), whose values are not known: its tiles are costed as if every point were selected (dense); give --input %s=FILE.npy or --density %s=D", t.Name, t.Pos, t.Name, t.Name)
	}
	if sd.values != nil {
		sd.density = sd.use.Density
	}
	sd.use.Density = sd.density
	lw.sels[t] = sd
	lw.selUses = append(lw.selUses, sd.use)
	return sd, nil
}

// topKDensity is the share of t's elements satisfying d when t is a top-k
// selection computed in the cascade: K of each fiber's n elements are 1.
func (lw *lowering) topKDensity(d *dpred) (float64, bool) {
	if len(d.t.Defs) != 1 || d.t.Defs[0].TopK == nil {
		return 0, false
	}
	tk := d.t.Defs[0].TopK
	k, err := tk.K.Eval(lw.sizes)
	n := lw.sizes[tk.Var.Name]
	if err != nil || n <= 0 {
		return 0, false
	}
	one := math.Min(1, float64(k)/float64(n))
	dens := 0.0
	if d.holds(1) {
		dens += one
	}
	if d.holds(0) {
		dens += 1 - one
	}
	return dens, true
}

// predVars lists the variables d's index mentions.
func (d *dpred) vars() []*einsum.Rank {
	var out []*einsum.Rank
	for _, l := range d.index {
		for v := range l.k {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	slices.SortFunc(out, func(a, b *einsum.Rank) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// image is the box of t's elements that d reads over the points b (one
// range per variable of vars), clipped to t's shape; ok is false when it
// is empty.
func (d *dpred) image(vars []*einsum.Rank, b ibox, shape []int64, out ibox) (ibox, bool) {
	out = out[:0]
	for i, l := range d.index {
		lo, hi := l.c, l.c
		for j, v := range vars {
			k := l.k[v]
			if k >= 0 {
				lo, hi = lo+k*b[j][0], hi+k*b[j][1]
			} else {
				lo, hi = lo+k*b[j][1], hi+k*b[j][0]
			}
		}
		lo, hi = max(lo, 0), min(hi, shape[i]-1)
		if lo > hi {
			return out, false
		}
		out = append(out, [2]int64{lo, hi})
	}
	return out, true
}

// distinct is how many elements of t d reads over the points b: per index,
// the values its form takes (a single variable's range, else at most the
// range and the product of the variables' ranges).
func (d *dpred) distinct(vars []*einsum.Rank, b ibox, shape []int64) float64 {
	n := 1.0
	for i, l := range d.index {
		lo, hi, prod := l.c, l.c, 1.0
		for j, v := range vars {
			k := l.k[v]
			if k == 0 {
				continue
			}
			w := b[j][1] - b[j][0]
			if k > 0 {
				lo, hi = lo+k*b[j][0], hi+k*b[j][1]
			} else {
				lo, hi = lo+k*b[j][1], hi+k*b[j][0]
			}
			prod *= float64(w + 1)
		}
		lo, hi = max(lo, 0), min(hi, shape[i]-1)
		if lo > hi {
			return 0
		}
		n *= math.Min(float64(hi-lo+1), prod)
	}
	return n
}

// anyHolds reports whether some element of sd in box im satisfies d: by
// inclusion-exclusion over d's prefix counts, 2^dims lookups a box.
func (sd *selData) anyHolds(d *dpred, im ibox) bool {
	pre := sd.prefixFor(d)
	n := int64(0)
outer:
	for corner := 0; corner < 1<<len(im); corner++ {
		off, neg := int64(0), false
		for i, r := range im {
			x := r[1]
			if corner&(1<<i) != 0 {
				if x = r[0] - 1; x < 0 {
					continue outer
				}
				neg = !neg
			}
			off += x * sd.strides[i]
		}
		if neg {
			n -= pre[off]
		} else {
			n += pre[off]
		}
	}
	return n > 0
}

// prefixFor is, per element, how many elements at or before it in every
// dimension satisfy d (computed once per predicate's comparison).
func (sd *selData) prefixFor(d *dpred) []int64 {
	key := fmt.Sprintf("%v %v %g", d.left, d.op, d.c)
	if pre, ok := sd.prefix[key]; ok {
		return pre
	}
	pre := make([]int64, len(sd.values))
	for i, v := range sd.values {
		if d.holds(v) {
			pre[i] = 1
		}
	}
	n := int64(len(pre))
	for dim, st := range sd.strides {
		span := st * sd.shape[dim] // one run of the dimension's indices
		for base := int64(0); base < n; base += span {
			for i := base + st; i < base+span; i++ {
				pre[i] += pre[i-st]
			}
		}
	}
	if sd.prefix == nil {
		sd.prefix = map[string][]int64{}
	}
	sd.prefix[key] = pre
	return pre
}

// dataStates splits the cells gb of grid g by which of the predicates in
// open have no satisfying element there (bit j: preds[j]): counted cell by
// cell from a tensor's values, as an expected count from a density (every
// cell reads as many elements, so one probability serves the block).
func (lw *lowering) dataStates(g []gdim, gb [][2]int64, preds []*dpred, sds []*selData, open uint64) map[uint64]float64 {
	first := make([][2]int64, len(gb))
	for i, r := range gb {
		first[i] = [2]int64{r[0], r[0]}
	}
	dist := map[uint64]float64{0: 1}
	var exact uint64
	for j, d := range preds {
		if open&(1<<j) == 0 {
			continue
		}
		if sds[j].values != nil {
			exact |= 1 << j
			continue
		}
		vars := d.vars()
		q := math.Pow(1-sds[j].density, d.distinct(vars, lw.varBox(vars, g, first), sds[j].shape))
		next := map[uint64]float64{}
		for st, pr := range dist {
			if v := pr * q; v > 0 {
				next[st|1<<j] += v
			}
			if v := pr * (1 - q); v > 0 {
				next[st] += v
			}
		}
		dist = next
	}
	out := map[uint64]float64{}
	for e, ce := range lw.exactStates(g, gb, preds, sds, exact) {
		for st, pr := range dist {
			out[e|st] += ce * pr
		}
	}
	return out
}

// exactStates counts the cells gb of grid g by which of the predicates in
// exact (given as tensors) have no satisfying element there, cell by cell
// over the grid dimensions they depend on.
func (lw *lowering) exactStates(g []gdim, gb [][2]int64, preds []*dpred, sds []*selData, exact uint64) map[uint64]float64 {
	n := 1.0
	cell := make([][2]int64, len(gb))
	for i, r := range gb {
		n *= float64(r[1] - r[0] + 1)
		cell[i] = [2]int64{r[0], r[0]}
	}
	var rel []int // grid dimensions an exact predicate depends on
	for j, d := range preds {
		for i, gd := range g {
			if exact&(1<<j) != 0 && slices.Contains(d.vars(), gd.rank) && !slices.Contains(rel, i) {
				rel = append(rel, i)
				n /= float64(gb[i][1] - gb[i][0] + 1)
			}
		}
	}
	counts := map[uint64]float64{}
	var im ibox
	var rec func(k int)
	rec = func(k int) {
		if k < len(rel) {
			i := rel[k]
			for x := gb[i][0]; x <= gb[i][1]; x++ {
				cell[i] = [2]int64{x, x}
				rec(k + 1)
			}
			return
		}
		var bits uint64
		for j, d := range preds {
			if exact&(1<<j) == 0 {
				continue
			}
			vars := d.vars()
			var ok bool
			if im, ok = d.image(vars, lw.varBox(vars, g, cell), sds[j].shape, im); !ok || !sds[j].anyHolds(d, im) {
				bits |= 1 << j
			}
		}
		counts[bits] += n // n: the cells of gb per cell of the dimensions in rel
	}
	rec(0)
	return counts
}

// noteTileElements records, for each selection, how many of its elements
// the first tile of grid g reads, so the report can say what a density
// implies.
func (lw *lowering) noteTileElements(g []gdim, s *maskSet) {
	first := make([][2]int64, len(g))
	for j, d := range s.preds {
		vars := d.vars()
		n := d.distinct(vars, lw.varBox(vars, g, first), s.sds[j].shape)
		for i := range lw.selUses {
			if u := &lw.selUses[i]; u.Tensor == d.t.Name && u.ElementsPerTile == 0 {
				u.ElementsPerTile = n
			}
		}
	}
}

// jointAny reports whether, in cell gb of grid g, some element of m's
// first selection given as a tensor satisfies it at a point m's affine
// conditions allow: the element fixes each variable that indexes it by
// itself, and the affine conditions are asked over what is left. True
// when m has no such selection (nothing to decide jointly).
func (lw *lowering) jointAny(m mask, g []gdim, gb [][2]int64, preds []*dpred, sds []*selData) bool {
	for j, d := range preds {
		if m.data&(1<<j) == 0 || sds[j].values == nil {
			continue
		}
		vars := d.vars()
		im, ok := d.image(vars, lw.varBox(vars, g, gb), sds[j].shape, nil)
		if !ok {
			return false
		}
		box := lw.varBox(m.aff.vars, g, gb)
		return sds[j].forEachHolding(d, im, func(el []int64) bool {
			b := slices.Clone(box)
			for i, l := range d.index {
				if len(l.k) != 1 {
					continue
				}
				for v, k := range l.k {
					if x := el[i] - l.c; x%k == 0 {
						if at := slices.Index(m.aff.vars, v); at >= 0 {
							b[at] = [2]int64{max(b[at][0], x/k), min(b[at][1], x/k)}
						}
					}
				}
			}
			for _, r := range b {
				if r[0] > r[1] {
					return false
				}
			}
			return m.aff.any(b)
		})
	}
	return true
}

// forEachHolding calls f with the index of each element of box im that
// satisfies d, until f returns true; it reports whether one did.
func (sd *selData) forEachHolding(d *dpred, im ibox, f func([]int64) bool) bool {
	el := make([]int64, len(im))
	var walk func(i int, off int64) bool
	walk = func(i int, off int64) bool {
		if i == len(im) {
			return d.holds(sd.values[off]) && f(el)
		}
		for x := im[i][0]; x <= im[i][1]; x++ {
			el[i] = x
			if walk(i+1, off+x*sd.strides[i]) {
				return true
			}
		}
		return false
	}
	return walk(0, 0)
}

// checkDataCells refuses a grid in which a selection tensor would be
// examined in more than maxDataCells tiles.
func (lw *lowering) checkDataCells(g []gdim, s *maskSet) error {
	for j, d := range s.preds {
		if s.sds[j].values == nil {
			continue
		}
		vars, n := d.vars(), int64(1)
		for _, gd := range g {
			if slices.Contains(vars, gd.rank) {
				n *= gd.cells
				if n > maxDataCells {
					return fmt.Errorf("the data filter on %s would be examined in more than %d tiles at this mapping; choose larger tiles", d.t.Name, maxDataCells)
				}
			}
		}
	}
	return nil
}
