package llvm

import (
	"fmt"
	"maps"
	"slices"

	"github.com/fusemax/fusemax/einsum"
)

// storage is where one tensor lives in the generated code.
type storage struct {
	t       *einsum.Tensor
	index   int     // position in c.Tensors, used for access counters
	extents []int64 // stored extents; a ring dimension has extent ring[d]
	strides []int64
	ring    []int64 // per dimension: 0 = stored whole, K = kept modulo K
	elems   int64
	// tracked tensors may be partly defined (filters, or maps reading
	// tracked tensors), so they carry a byte mask next to their values.
	tracked bool
	// viewOf is set when the tensor is a reshape of another one and shares
	// its memory: the defining Einsum is then not executed.
	viewOf *storage
	// tileRank, when not nil, is the hoisted rank whose dimension tileDim
	// is stored one tile wide, indexed from the tile's start.
	tileRank *einsum.Rank
	tileDim  int
	// clearLoop, when not nil, is the block at each step of which the mask
	// slot of slice var+clearAt is cleared before the body (planMaskRing).
	clearLoop *einsum.Loop
	clearAt   int64
	// order, when not nil, lists the dimensions outermost first in memory
	// (planLayout); else they are stored in declared order.
	order []int
	// logicalStrides and logicalElems address the whole tensor, rings and
	// views aside: the tile counters stamp elements by them.
	logicalStrides []int64
	logicalElems   int64
}

// tiling hoists one rank out of an iterate block: the block runs once per
// tile of that rank, on that tile only, so that its working set fits the
// caches. It is valid when every step of the block is independent across the
// rank (see planTiling).
type tiling struct {
	loop *einsum.Loop
	rank *einsum.Rank
	size int64
}

// plan is the storage and loop decisions for one cascade at one shape.
type plan struct {
	c      *einsum.Cascade
	sizes  map[string]int64
	store  map[*einsum.Tensor]*storage
	tiles  map[*einsum.Loop]tiling
	scalar map[*einsum.Einsum]bool // reductions evaluated point by point
	skip   map[*einsum.Einsum]bool // Einsums that define views
	// sunk lists, per iterate block, the top-level copies it runs at the
	// start of each step for that step's slice only (planSink).
	sunk   map[*einsum.Loop][]*einsum.Einsum
	sunkIn map[*einsum.Einsum]*einsum.Loop
	// tilePre and tilePost are the top-level statements just before and
	// after a tiled block that run inside its tile loop (planTileLocal).
	tilePre, tilePost map[*einsum.Loop][]*einsum.Einsum
	moved             map[*einsum.Einsum]bool
	// threads is the kernel's thread count when above 1 (planThreads);
	// singleWhy says why a request for threads runs on one.
	threads   int64
	singleWhy string
}

func (p *plan) size(r *einsum.Rank) int64 { return p.sizes[r.Name] }

func (p *plan) eval(x einsum.Poly) int64 { return x.MustEval(p.sizes) }

func newPlan(c *einsum.Cascade, sizes map[string]int64, opts Options) (*plan, error) {
	p := &plan{c: c, sizes: sizes, store: map[*einsum.Tensor]*storage{},
		tiles: map[*einsum.Loop]tiling{}, scalar: map[*einsum.Einsum]bool{}, skip: map[*einsum.Einsum]bool{},
		sunk: map[*einsum.Loop][]*einsum.Einsum{}, sunkIn: map[*einsum.Einsum]*einsum.Loop{},
		tilePre: map[*einsum.Loop][]*einsum.Einsum{}, tilePost: map[*einsum.Loop][]*einsum.Einsum{}, moved: map[*einsum.Einsum]bool{}}
	tracked := trackedTensors(c)
	for i, t := range c.Tensors {
		s := &storage{t: t, index: i, tracked: tracked[t], ring: make([]int64, len(t.Dims))}
		for _, d := range t.Dims {
			s.extents = append(s.extents, p.eval(d.Extent))
		}
		p.store[t] = s
	}
	for _, t := range c.Tensors {
		s := p.store[t]
		if t.Kind == einsum.Intermediate && !s.tracked {
			p.planRing(s)
		} else if t.Kind == einsum.Intermediate {
			p.planMaskRing(s)
		}
	}
	if !opts.CountAccesses {
		for _, e := range c.Einsums {
			p.planSink(e)
		}
	}
	for _, t := range c.Tensors {
		p.planLayout(p.store[t])
	}
	if !opts.CountAccesses {
		for _, t := range c.Tensors {
			p.planView(p.store[t])
		}
	}
	for _, e := range c.Einsums {
		p.scalar[e] = needsScalar(e, opts)
	}
	if opts.MapTile != nil {
		if err := p.planMapTiling(opts.MapTile); err != nil {
			return nil, err
		}
	} else {
		for _, l := range c.Loops {
			if t, ok := p.planTiling(l, opts); ok {
				p.tiles[l] = t
			}
		}
		if t, ok := p.planWholeTiling(opts); ok {
			p.tiles[nil] = t
		}
	}
	if !opts.CountAccesses {
		for _, l := range c.Loops {
			if t, ok := p.tiles[l]; ok {
				p.planTileLocal(t)
			}
		}
	}
	if t, ok := p.tiles[nil]; ok { // every statement is inside the tile loop
		in := map[*einsum.Einsum]bool{}
		for _, e := range c.Einsums {
			in[e] = true
		}
		for _, tn := range c.Tensors {
			p.tileStore(p.store[tn], t, in)
		}
	}
	if err := p.finishLayout(opts); err != nil {
		return nil, err
	}
	p.singleWhy = p.planThreads(opts)
	return p, nil
}

// copies is how many copies of each intermediate the kernel keeps: one per
// thread.
func (p *plan) copies() int64 { return max(p.threads, 1) }

// finishLayout computes every tensor's strides from its stored extents and
// order, and checks the sizes.
func (p *plan) finishLayout(opts Options) error {
	c := p.c
	for _, t := range c.Tensors {
		s := p.store[t]
		s.strides = make([]int64, len(s.extents))
		acc := int64(1)
		for k := len(s.extents) - 1; k >= 0; k-- {
			d := k
			if s.order != nil {
				d = s.order[k]
			}
			s.strides[d] = acc
			acc *= s.extents[d]
		}
		s.elems = acc
		if s.elems > 1<<31 {
			return fmt.Errorf("%s: tensor %s has %d elements at this shape; the LLVM backend keeps every tensor under 2^31 elements", t.Pos, t.Name, s.elems)
		}
		if opts.CountAccesses {
			s.logicalStrides = make([]int64, len(t.Dims))
			acc := int64(1)
			for d := len(t.Dims) - 1; d >= 0; d-- {
				s.logicalStrides[d] = acc
				acc *= p.eval(t.Dims[d].Extent)
			}
			s.logicalElems = acc
			if acc > 1<<28 {
				return fmt.Errorf("%s: tensor %s has %d elements at this shape; counting accesses keeps a stamp per element and needs fewer than 2^28", t.Pos, t.Name, acc)
			}
		}
	}
	return nil
}

// trackedTensors finds the tensors that may be partly defined: those with a
// filtered definition or defined in an iterate block that may stop early,
// and maps reading such a tensor. A reduction's output point is defined
// whenever its filters admit a point, so only filters make it partial.
func trackedTensors(c *einsum.Cascade) map[*einsum.Tensor]bool {
	tr := map[*einsum.Tensor]bool{}
	for _, t := range c.Outputs {
		tr[t] = !covered(t) // its mask says which points were defined
	}
	for _, e := range c.Einsums {
		t := e.Output.Tensor
		if len(e.Filters) > 0 || e.Loop != nil && !fullRun(e.Loop) {
			tr[t] = true
		}
		if len(e.Reductions) == 0 {
			for _, r := range e.Reads() {
				if tr[r.Tensor] {
					tr[t] = true
				}
			}
		}
	}
	return tr
}

// needsScalar tells whether a reduction must run point by point with
// register accumulators instead of accumulating into its output in memory
// (which lets the innermost loop run over an output dimension and
// vectorise). Point by point is required when reductions nest with different
// operators, when filters look at reduced variables, when the Einsum reads
// its own output, and for bf16 storage, which rounds only the final value.
func needsScalar(e *einsum.Einsum, opts Options) bool {
	if len(e.Reductions) == 0 {
		return false
	}
	if opts.Storage == StorageBF16 {
		return true
	}
	for _, r := range e.Reductions[1:] {
		if r.Op != e.Reductions[0].Op {
			return true
		}
	}
	red := map[*einsum.Rank]bool{}
	for _, v := range e.ReducedVars() {
		red[v] = true
	}
	for _, f := range e.Filters {
		for _, v := range f.Vars() {
			if red[v] {
				return true
			}
		}
	}
	for _, r := range e.Reads() {
		if r.Tensor == e.Output.Tensor {
			return true
		}
	}
	return false
}

// accesses lists every access to t in the cascade with the Einsum it is in.
func accesses(c *einsum.Cascade, t *einsum.Tensor) (acc []*einsum.Access, in []*einsum.Einsum) {
	for _, e := range c.Einsums {
		if e.Output.Tensor == t {
			acc, in = append(acc, e.Output), append(in, e)
		}
		for _, r := range e.Reads() {
			if r.Tensor == t {
				acc, in = append(acc, r), append(in, e)
			}
		}
	}
	return acc, in
}

// planRing keeps only a window of the slices of a tensor defined inside an
// iterate block, when every access inside the block is at var+c and every
// access outside it is at a constant: seeds written before the block and
// final values read after it. With offsets c in [lo, hi] a ring of
// hi-lo+1 slices holds every slice from its write to its last read (the
// write of slice j+K happens at step j+K-hi = j-lo+1, after the last read
// of j at step j-lo).
func (p *plan) planRing(s *storage) {
	t := s.t
	var loop *einsum.Loop
	for _, e := range t.Defs {
		if e.Loop != nil {
			loop = e.Loop
		}
	}
	if loop == nil || !fullRun(loop) {
		return
	}
	dim := -1
	for _, e := range t.Defs {
		if e.Loop != loop {
			continue
		}
		for d, x := range e.Output.Index {
			if !x.Coef(loop.Var).IsZero() {
				dim = d
			}
		}
	}
	if dim < 0 {
		return
	}
	acc, in := accesses(p.c, t)
	lo, hi := int64(1<<62), int64(-1<<62)
	var before, after []int64
	for i, a := range acc {
		x := a.Index[dim]
		if v, ok := x.IsVar(); ok && v == loop.Var && in[i].Loop == loop {
			lo, hi = min(lo, 0), max(hi, 0)
			continue
		}
		if len(x.Terms) == 1 && x.Terms[0].Var == loop.Var && in[i].Loop == loop {
			if k, ok := x.Terms[0].Coef.IsConst(); ok && k == 1 {
				c := p.eval(x.Const)
				lo, hi = min(lo, c), max(hi, c)
				continue
			}
		}
		if len(x.Terms) == 0 && in[i].Loop == nil {
			if indexOfEinsum(p.c, in[i]) < indexOfEinsum(p.c, loop.Body[0]) {
				before = append(before, p.eval(x.Const))
			} else {
				after = append(after, p.eval(x.Const))
			}
			continue
		}
		return
	}
	if lo < 0 || hi < lo {
		return
	}
	k := hi - lo + 1
	last := p.size(loop.Var) - 1 + hi
	for _, c := range before {
		if c < 0 || c >= k {
			return
		}
	}
	for _, c := range after {
		if c <= last-k || c > last {
			return
		}
	}
	if k < s.extents[dim] {
		s.ring[dim] = k
		s.extents[dim] = k
	}
}

// fullRun reports whether an iterate block always runs for every value of
// its variable (until v >= V), so that the last slice written is known.
func fullRun(l *einsum.Loop) bool {
	v, ok := l.Until.L.IsVar()
	if !ok || v != l.Var || l.Until.Op != einsum.GE || len(l.Until.R.Terms) != 0 {
		return false
	}
	return l.Until.R.Const.Equal(l.Var.Size())
}

func indexOfEinsum(c *einsum.Cascade, e *einsum.Einsum) int {
	for i, x := range c.Einsums {
		if x == e {
			return i
		}
	}
	return -1
}

// planView makes t share the memory of X when t's only definition is an
// unfiltered copy t[i] = X[f(i)] at top level whose flat offsets agree at
// every point, as a reshape does.
func (p *plan) planView(s *storage) {
	t := s.t
	if t.Kind != einsum.Intermediate || len(t.Defs) != 1 || s.tracked {
		return
	}
	e := t.Defs[0]
	rd, ok := e.Expr.(*einsum.Read)
	if !ok || e.Loop != nil || len(e.Filters) > 0 || len(e.Reductions) > 0 || e.TopK != nil {
		return
	}
	src := p.store[rd.Access.Tensor]
	if src.viewOf != nil {
		src = src.viewOf
	}
	if src.tracked || hasRing(src) || hasRing(s) || s.order != nil {
		return
	}
	// Both sides must cover the same number of elements, so that the view
	// is the whole of t, and flat offsets must be the same affine function.
	n := int64(1)
	for _, v := range e.Vars {
		n *= p.size(v)
	}
	if n != src.elemCount() || n != s.elemCount() {
		return
	}
	lhs := p.flatAffine(s, e.Output.Index)
	rhs := p.flatAffine(src, rd.Access.Index)
	if len(lhs) != len(rhs) {
		return
	}
	for k, v := range lhs {
		if rhs[k] != v {
			return
		}
	}
	s.viewOf = src
	p.skip[e] = true
}

// planSink moves a top-level map that copies inputs into a tensor read
// only inside one iterate block, at the slice of the block's variable, into
// that block: each step copies its own slice (BK[e, m1, m0] = K[e, m1*M0 +
// m0] copies one M0-wide block of K, contiguous), so the tensor keeps one
// slice and the working memory does not grow with the iterated rank. The
// values are the same: the copy reads inputs only, which nothing writes.
func (p *plan) planSink(e *einsum.Einsum) {
	t := e.Output.Tensor
	s := p.store[t]
	if e.Loop != nil || len(e.Reductions) > 0 || len(e.Filters) > 0 || t.Kind != einsum.Intermediate || len(t.Defs) != 1 || s.tracked {
		return
	}
	for _, r := range e.Reads() {
		if r.Tensor.Kind != einsum.Input {
			return
		}
	}
	var loop *einsum.Loop
	dim := -1
	acc, in := accesses(p.c, t)
	for i, a := range acc {
		if in[i] == e {
			continue
		}
		l := in[i].Loop
		if l == nil || loop != nil && l != loop {
			return
		}
		loop = l
		d := -1
		for k, x := range a.Index {
			if v, ok := x.IsVar(); ok && v == l.Var {
				d = k
			}
		}
		if d < 0 || dim >= 0 && d != dim {
			return
		}
		dim = d
	}
	if loop == nil {
		return
	}
	if v, ok := e.Output.Index[dim].IsVar(); !ok || v != loop.Var {
		return
	}
	s.ring[dim], s.extents[dim] = 1, 1
	p.sunk[loop] = append(p.sunk[loop], e)
	p.sunkIn[e] = loop
}

// planLayout stores an intermediate that is computed outside every iterate
// block, and read inside one at a slice chosen by the block's variable,
// with that dimension outermost: each step then reads one contiguous block
// (BK[e, m1, m0] as [m1][e][m0], 16 KiB per step at E = M0 = 64) instead of
// E rows a whole row of K apart, which with power-of-two strides fall into
// the same cache sets. Such a tensor is a copy, never a view.
func (p *plan) planLayout(s *storage) {
	t := s.t
	if t.Kind != einsum.Intermediate || s.tracked || hasRing(s) || len(t.Dims) < 2 {
		return
	}
	for _, e := range t.Defs {
		if e.Loop != nil {
			return
		}
	}
	dim := -1
	acc, in := accesses(p.c, t)
	for i, a := range acc {
		l := in[i].Loop
		if l == nil {
			continue
		}
		for d, x := range a.Index {
			if v, ok := x.IsVar(); ok && v == l.Var {
				if dim >= 0 && dim != d {
					return
				}
				dim = d
			}
		}
	}
	if dim <= 0 {
		return
	}
	s.order = []int{dim}
	for d := range t.Dims {
		if d != dim {
			s.order = append(s.order, d)
		}
	}
}

func hasRing(s *storage) bool {
	for _, k := range s.ring {
		if k != 0 {
			return true
		}
	}
	return false
}

func (s *storage) elemCount() int64 {
	n := int64(1)
	for _, x := range s.extents {
		n *= x
	}
	return n
}

// flatAffine is the flat row-major offset of an access as coefficients per
// variable (nil key: the constant), before strides are final: it uses the
// extents, which is all planView needs.
func (p *plan) flatAffine(s *storage, idx []einsum.Affine) map[*einsum.Rank]int64 {
	out := map[*einsum.Rank]int64{}
	stride := int64(1)
	for d := len(idx) - 1; d >= 0; d-- {
		out[nil] += stride * p.eval(idx[d].Const)
		for _, t := range idx[d].Terms {
			out[t.Var] += stride * p.eval(t.Coef)
		}
		stride *= s.extents[d]
	}
	for k, v := range out {
		if v == 0 {
			delete(out, k)
		}
	}
	return out
}

// planTiling picks a rank to hoist around an iterate block: one that every
// Einsum of the body has among its output variables, and that every access
// inside the body to a tensor the body writes indexes as the plain
// variable, so that distinct values of it never meet within the block. The
// rank with the most points wins; Options.Tile can set or disable it.
func (p *plan) planTiling(l *einsum.Loop, opts Options) (tiling, bool) {
	if opts.NoTile {
		return tiling{}, false
	}
	written := map[*einsum.Tensor]bool{}
	for _, e := range l.Body {
		written[e.Output.Tensor] = true
	}
	var best *einsum.Rank
	for _, r := range l.Body[0].OutputVars() {
		if r.Parent != nil || len(r.Parts) > 0 || mentions(l.Until, r) || !p.independent(l, r, written) {
			continue
		}
		if best == nil || p.size(r) > p.size(best) {
			best = r
		}
	}
	size, ok := p.tileSize(best, opts)
	return tiling{loop: l, rank: best, size: size}, ok
}

// tileSize is the tile of rank r (defaultTile, or Options.Tile's), and
// whether r is tiled: nil, a tile of 0 or one at least r's size is not.
func (p *plan) tileSize(r *einsum.Rank, opts Options) (int64, bool) {
	if r == nil {
		return 0, false
	}
	size := int64(defaultTile)
	if v, ok := opts.Tile[r.Name]; ok {
		size = v
	}
	return size, size > 0 && size < p.size(r)
}

// planWholeTiling tiles a cascade without iterate blocks: its statements
// run once per tile of one rank, in a tile loop around all of them (the
// tiling of the nil loop; several workers split its tiles), when every
// statement loops over that rank and reads what the cascade writes at its
// own value of it (independentOver), so tiles never meet; its
// intermediates are then stored one tile wide (tileStore). Counting
// accesses keeps the statements as they are.
func (p *plan) planWholeTiling(opts Options) (tiling, bool) {
	if opts.NoTile || opts.CountAccesses || len(p.c.Loops) > 0 || len(p.c.Einsums) == 0 {
		return tiling{}, false
	}
	written := map[*einsum.Tensor]bool{}
	for _, e := range p.c.Einsums {
		written[e.Output.Tensor] = true
	}
	var best *einsum.Rank
	for _, r := range p.c.Einsums[0].OutputVars() {
		if r.Parent == nil && len(r.Parts) == 0 && independentOver(p.c.Einsums, r, written) && (best == nil || p.size(r) > p.size(best)) {
			best = r
		}
	}
	size, ok := p.tileSize(best, opts)
	return tiling{rank: best, size: size}, ok
}

// planMapTiling follows a mapping's tiling: the one rank it splits into
// several groups is hoisted around the iterate block with the mapping's
// tile. Statements outside the block run once over the whole rank, which
// changes neither values nor counts: none of them carries state across the
// rank (planTiling's independence test).
func (p *plan) planMapTiling(tile map[string]int64) error {
	var split []*einsum.Rank
	for _, name := range slices.Sorted(maps.Keys(tile)) {
		r := p.c.Rank(name)
		if r == nil {
			return fmt.Errorf("the mapping tiles rank %s, which cascade %s does not have", name, p.c.Name)
		}
		if n := tile[name]; n <= 0 || p.size(r)%n != 0 {
			return fmt.Errorf("the mapping's tile %s=%d does not divide %s=%d", name, n, name, p.size(r))
		}
		if tile[name] < p.size(r) {
			split = append(split, r)
		}
	}
	switch {
	case len(split) == 0:
		return nil
	case len(split) > 1:
		return fmt.Errorf("the mapping splits %s and %s into groups; the LLVM backend runs groups of one rank only", split[0].Name, split[1].Name)
	case len(p.c.Loops) != 1:
		return fmt.Errorf("the mapping splits %s into groups of %d; the LLVM backend runs groups around an iterate block, and cascade %s has %d iterate blocks (it needs exactly one)",
			split[0].Name, tile[split[0].Name], p.c.Name, len(p.c.Loops))
	}
	r, l := split[0], p.c.Loops[0]
	written := map[*einsum.Tensor]bool{}
	for _, e := range l.Body {
		written[e.Output.Tensor] = true
	}
	why := ""
	switch {
	case r.Parent != nil || len(r.Parts) > 0:
		why = r.Name + " is part of a split"
	case mentions(l.Until, r):
		why = "its end condition depends on " + r.Name
	case !p.independent(l, r, written):
		why = "not every statement of it is a loop over " + r.Name + " whose values of " + r.Name + " never meet"
	}
	if why != "" {
		return fmt.Errorf("the mapping splits %s into groups of %d, but the iterate block at %s cannot run one group at a time: %s",
			r.Name, tile[r.Name], l.Pos, why)
	}
	p.tiles[l] = tiling{loop: l, rank: r, size: tile[r.Name]}
	return nil
}

// defaultTile keeps a 128-wide slice of the hoisted rank: with E = F = 64 and
// M0 = 64 the body's tiles (Q, QK, SLN, SLNV) are 32 KiB each in f32 and fit
// the L1 and L2 caches together.
const defaultTile = 128

func (p *plan) independent(l *einsum.Loop, r *einsum.Rank, written map[*einsum.Tensor]bool) bool {
	return independentOver(l.Body, r, written)
}

// independentOver says whether statements es all loop over r and every
// access among them to a tensor in written indexes r as the plain variable.
func independentOver(es []*einsum.Einsum, r *einsum.Rank, written map[*einsum.Tensor]bool) bool {
	for _, e := range es {
		isOut := false
		for _, v := range e.OutputVars() {
			isOut = isOut || v == r
		}
		if !isOut {
			return false
		}
		accs := append([]*einsum.Access{e.Output}, e.Reads()...)
		for _, a := range accs {
			if !written[a.Tensor] {
				continue
			}
			plain := false
			for d, x := range a.Index {
				if v, ok := x.IsVar(); ok && v == r && a.Tensor.Dims[d].Rank.Root() == r {
					plain = true
				}
			}
			if !plain {
				return false
			}
		}
	}
	return true
}

func mentions(c einsum.Cond, r *einsum.Rank) bool {
	for _, v := range append(c.L.Vars(), c.R.Vars()...) {
		if v == r {
			return true
		}
	}
	return false
}
