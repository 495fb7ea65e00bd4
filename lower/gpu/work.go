package gpu

import (
	"fmt"
	"math"
	"strings"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/einsum/passes"
)

// phase is one link of a consumer's chain in a key step: a tile product on
// the tensor cores, or the element-wise and reduction work between two
// products on the FMA pipe and the SFU. Work is per query row, so a chain
// owning r rows costs r times it.
type phase struct {
	MMA      bool
	Einsums  []string
	FLOPs    float64 // products: 2 per multiply-add
	FMA, SFU float64 // instructions (results) on each pipe
	// SmemRow is the shared-memory bytes a product reads per query row
	// (the query block when it is not in registers).
	SmemRow float64
	// Streams names the streamed tiles a product reads from shared memory.
	Streams []string
}

// stream is an input the CTA loads tile by tile: one key block per step.
type stream struct {
	Name  string
	Bytes float64 // per step
}

// work is a cascade cut into what one CTA does per key step and once.
type work struct {
	Phases  []phase
	Streams []stream // in first-use order
	// Prologue and Epilogue are the work before and after the key loop,
	// per query row (seeds; the final normalisation).
	Prologue, Epilogue phase
	LoadRow, StoreRow  float64 // resident input and output bytes per query row
	Masked             []*einsum.Einsum
	SelectCost         map[string]float64 // pipe cost of masking one element
	UsefulFLOPsPerPt   float64            // product FLOPs per (query, key) point
	MaskPts            float64            // points per row of one step that a mask tests
	loop               *einsum.Loop
	query, block       *einsum.Rank
}

type analyzer struct {
	c      *einsum.Cascade
	sm     *arch.SM
	m      *Mapping
	sizes  map[string]int64
	bn     int64
	bytes  float64
	query  *einsum.Rank
	key    *einsum.Rank
	block  *einsum.Rank
	loop   *einsum.Loop
	alias  map[*einsum.Tensor]*einsum.Tensor // view → input
	inLoop map[*einsum.Einsum]bool
	mma    map[*einsum.Einsum]bool
	fused  map[*einsum.Einsum]bool
}

// checkFused says whether the fused mapping can express cascade c: one
// pass over the key rank, through an iterate loop over its key blocks.
func checkFused(c *einsum.Cascade, m *Mapping) (query, key, block *einsum.Rank, loop *einsum.Loop, err error) {
	query, key, block = c.Rank(m.Query), c.Rank(m.Key), c.Rank(m.KeyBlock)
	for _, x := range []struct {
		r    *einsum.Rank
		name string
		what string
	}{{query, m.Query, "query"}, {key, m.Key, "key"}} {
		if x.r == nil {
			return nil, nil, nil, nil, m.errorAt(x.what, false, "mapping.%s names rank %s, which cascade %s lacks (it has %s)", x.what, x.name, c.Name, rankNames(c))
		}
	}
	rep, err := passes.Analyze(c, key.Name)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if rep.Passes != 1 {
		return nil, nil, nil, nil, m.errorAt("key", false, "cascade %s takes %d passes over %s (see fusemax passes %s); %s keeps a query block's state on chip for one pass over the keys: use mapping standard, or a 1-pass cascade", c.Name, rep.Passes, key.Name, c.Name, m.Name)
	}
	if block == nil || block.Parent != key || len(key.Parts) != 2 || key.Parts[1] != block {
		return nil, nil, nil, nil, m.errorAt("key_block", false, "cascade %s does not split %s into key blocks ending in %s (split %s into %s1, %s); %s streams K/V one key block per step", c.Name, m.Key, m.KeyBlock, m.Key, m.Key, m.KeyBlock, m.Name)
	}
	for _, l := range c.Loops {
		if l.Var == key.Parts[0] {
			if loop != nil {
				return nil, nil, nil, nil, m.errorAt("key", false, "cascade %s iterates %s twice; %s streams the keys once", c.Name, l.Var.Name, m.Name)
			}
			loop = l
		}
	}
	if loop == nil {
		return nil, nil, nil, nil, m.errorAt("key", false, "cascade %s has no iterate loop over %s; %s streams K/V one key block per loop step", c.Name, key.Parts[0].Name, m.Name)
	}
	return query, key, block, loop, nil
}

func rankNames(c *einsum.Cascade) string {
	var s []string
	for _, r := range c.Ranks {
		s = append(s, r.Name)
	}
	return strings.Join(s, ", ")
}

// analyze cuts the cascade into per-step phases.
func analyze(c *einsum.Cascade, sm *arch.SM, m *Mapping, sizes map[string]int64, bn int64, dtypeBytes float64) (*work, error) {
	q, k, b, loop, err := checkFused(c, m)
	if err != nil {
		return nil, err
	}
	a := &analyzer{c: c, sm: sm, m: m, sizes: sizes, bn: bn, bytes: dtypeBytes, query: q, key: k, block: b, loop: loop,
		alias: map[*einsum.Tensor]*einsum.Tensor{}, inLoop: map[*einsum.Einsum]bool{}, mma: map[*einsum.Einsum]bool{}, fused: map[*einsum.Einsum]bool{}}
	for _, e := range loop.Body {
		a.inLoop[e] = true
	}
	for _, e := range c.Einsums {
		if v := a.viewOf(e); v != nil {
			a.alias[e.Output.Tensor] = v
		}
	}
	for _, e := range loop.Body {
		a.mma[e] = isProduct(e)
	}
	for _, e := range loop.Body {
		a.fused[e] = a.accumulates(e)
	}
	w := &work{SelectCost: sm.Ops["select"], loop: loop, query: q, block: b}
	if err := a.loopPhases(w); err != nil {
		return nil, err
	}
	if err := a.outside(w); err != nil {
		return nil, err
	}
	return w, nil
}

// viewOf returns the input a pure re-indexing Einsum (BK = K[...]) reads,
// or nil: a view costs nothing, its tiles are the input's.
func (a *analyzer) viewOf(e *einsum.Einsum) *einsum.Tensor {
	r, ok := e.Expr.(*einsum.Read)
	if !ok || len(e.Reductions) > 0 || len(e.Filters) > 0 {
		return nil
	}
	t := r.Access.Tensor
	if src, ok := a.alias[t]; ok {
		return src
	}
	if t.Kind == einsum.Input {
		return t
	}
	return nil
}

// isProduct: a sum over ranks of the product of two tensors that both
// carry every reduced rank runs on the tensor cores.
func isProduct(e *einsum.Einsum) bool {
	b, ok := e.Expr.(*einsum.Binary)
	if !ok || b.Op != einsum.Mul || len(e.Reductions) == 0 {
		return false
	}
	for _, r := range e.Reductions {
		if r.Op != einsum.Sum {
			return false
		}
	}
	x, ok1 := b.X.(*einsum.Read)
	y, ok2 := b.Y.(*einsum.Read)
	if !ok1 || !ok2 {
		return false
	}
	for _, v := range e.ReducedVars() {
		if !indexes(x.Access, v) || !indexes(y.Access, v) {
			return false
		}
	}
	return true
}

func indexes(acc *einsum.Access, r *einsum.Rank) bool {
	for _, ix := range acc.Index {
		if !ix.Coef(r).IsZero() {
			return true
		}
	}
	return false
}

// accumulates: X = P + Y where P is a product of the same step is the
// product's accumulator (C += A·B), so it costs nothing extra.
func (a *analyzer) accumulates(e *einsum.Einsum) bool {
	b, ok := e.Expr.(*einsum.Binary)
	if !ok || b.Op != einsum.Add || len(e.Reductions) > 0 {
		return false
	}
	for _, x := range []einsum.Expr{b.X, b.Y} {
		if r, ok := x.(*einsum.Read); ok {
			for _, d := range r.Access.Tensor.Defs {
				if a.inLoop[d] && a.mma[d] && !a.previousIteration(r.Access, d) {
					return true
				}
			}
		}
	}
	return false
}

// previousIteration: the read sees the value the defining Einsum wrote in
// an earlier loop step (RM[m1, p] against RM[m1+1, p] = ...).
func (a *analyzer) previousIteration(read *einsum.Access, def *einsum.Einsum) bool {
	v := a.loop.Var
	for i, ix := range def.Output.Index {
		if ix.Coef(v).IsZero() || i >= len(read.Index) {
			continue
		}
		rc, _ := read.Index[i].Const.IsConst()
		wc, _ := ix.Const.IsConst()
		return rc < wc
	}
	return false
}

// depth counts the products on the longest same-step dependency chain
// into e: the phase e belongs to.
func (a *analyzer) depth(e *einsum.Einsum, memo map[*einsum.Einsum]int) int {
	if d, ok := memo[e]; ok {
		return d
	}
	memo[e] = 0
	d := 0
	for _, r := range e.Reads() {
		for _, p := range r.Tensor.Defs {
			if !a.inLoop[p] || p == e || a.previousIteration(r, p) {
				continue
			}
			pd := a.depth(p, memo)
			if a.mma[p] && !a.fused[e] {
				pd++
			}
			d = max(d, pd)
		}
	}
	memo[e] = d
	return d
}

// loopPhases orders the loop body into alternating non-product and
// product phases by dependency depth.
func (a *analyzer) loopPhases(w *work) error {
	memo := map[*einsum.Einsum]int{}
	most := 0
	for _, e := range a.loop.Body {
		most = max(most, a.depth(e, memo))
	}
	w.Phases = make([]phase, 2*(most+1))
	for i := range w.Phases {
		w.Phases[i].MMA = i%2 == 1
	}
	seen := map[string]bool{}
	for _, e := range a.loop.Body {
		if a.viewOf(e) != nil {
			continue
		}
		if len(e.Filters) > 0 {
			w.Masked = append(w.Masked, e)
			pts, err := a.points(e)
			if err != nil {
				return err
			}
			w.MaskPts += pts
		}
		d := memo[e]
		if a.fused[e] {
			continue
		}
		ph := &w.Phases[2*d]
		if a.mma[e] {
			pre := ph
			ph = &w.Phases[2*d+1]
			if err := a.product(e, ph, pre, w, seen); err != nil {
				return err
			}
		} else if err := a.elementwise(e, ph); err != nil {
			return err
		}
		ph.Einsums = append(ph.Einsums, e.Name())
	}
	// Drop empty phases so that a chain is only what the cascade does.
	var out []phase
	for _, p := range w.Phases {
		if len(p.Einsums) == 0 && p.FMA+p.SFU > 0 {
			p.Einsums = []string{"convert"}
		}
		if len(p.Einsums) > 0 {
			out = append(out, p)
		}
	}
	w.Phases = out
	return nil
}

// extent is how many values of rank r one query row of one key step
// covers.
func (a *analyzer) extent(r *einsum.Rank) (float64, error) {
	switch {
	case r == a.query:
		return 1, nil
	case r == a.block:
		return float64(a.bn), nil
	case r == a.loop.Var:
		return 1, nil
	case r.Root() == a.query || r.Root() == a.key:
		what := map[bool]string{true: "query", false: "key"}[r.Root() == a.query]
		return 0, a.m.errorAt(what, false, "an Einsum iterates %s, a part of the %s rank %s the mapping tiles whole", r.Name, what, r.Root().Name)
	}
	return float64(a.sizes[r.Name]), nil
}

func (a *analyzer) points(e *einsum.Einsum) (float64, error) {
	n := 1.0
	for _, r := range e.Vars {
		x, err := a.extent(r)
		if err != nil {
			return 0, fmt.Errorf("%s (Einsum %s at %s)", err, e.Name(), e.Pos)
		}
		n *= x
	}
	return n, nil
}

// accessExtent is the number of elements of an access one query row of one
// key step touches.
func (a *analyzer) accessExtent(acc *einsum.Access) (float64, error) {
	n := 1.0
	for _, ix := range acc.Index {
		for _, v := range ix.Vars() {
			x, err := a.extent(v)
			if err != nil {
				return 0, err
			}
			n *= x
		}
	}
	return n, nil
}

func (a *analyzer) streamed(acc *einsum.Access) bool {
	return indexes(acc, a.loop.Var) || indexes(acc, a.block)
}

// product costs a tensor-core Einsum; pre is the element-wise phase
// before it, which converts the operands the FMA pipe made.
func (a *analyzer) product(e *einsum.Einsum, ph, pre *phase, w *work, seen map[string]bool) error {
	pts, err := a.points(e)
	if err != nil {
		return err
	}
	ph.FLOPs += 2 * pts
	w.UsefulFLOPsPerPt += 2 * pts / float64(a.bn)
	for _, r := range e.Reads() {
		n, err := a.accessExtent(r)
		if err != nil {
			return err
		}
		src, isInput := a.alias[r.Tensor]
		if r.Tensor.Kind == einsum.Input {
			src, isInput = r.Tensor, true
		}
		switch {
		case isInput && a.streamed(r):
			if !seen[src.Name] {
				seen[src.Name] = true
				w.Streams = append(w.Streams, stream{Name: src.Name, Bytes: n * a.bytes})
			}
			ph.Streams = append(ph.Streams, src.Name)
		case isInput && !a.m.QInRegisters:
			ph.SmemRow += n * a.bytes
		case !isInput:
			// An operand the FMA pipe made (P = SLN) is converted to the
			// product's dtype in registers.
			pre.FMA += n * a.sm.Convert
		}
	}
	return nil
}

// ops lists the operations of one point: one per operator node and the
// reduction's combine.
func ops(e *einsum.Einsum) map[string]float64 {
	out := map[string]float64{}
	einsum.Walk(e.Expr, func(x einsum.Expr) {
		switch x := x.(type) {
		case *einsum.Binary:
			out[binaryName(x.Op)]++
		case *einsum.Unary:
			name := x.Op.String()
			if name == "-" {
				name = "neg"
			}
			out[name]++
		}
	})
	if n := len(e.Reductions); n > 0 {
		out[map[einsum.ReduceOp]string{einsum.Sum: "add", einsum.Max: "max", einsum.Min: "min"}[e.Reductions[n-1].Op]]++
	}
	return out
}

func binaryName(op einsum.BinaryOp) string {
	switch op {
	case einsum.Add:
		return "add"
	case einsum.Sub:
		return "sub"
	case einsum.Mul:
		return "mul"
	case einsum.Div:
		return "div"
	case einsum.MaxOf:
		return "max"
	case einsum.MinOf:
		return "min"
	}
	return op.String()
}

func (a *analyzer) elementwise(e *einsum.Einsum, ph *phase) error {
	pts, err := a.points(e)
	if err != nil {
		return err
	}
	for op, n := range ops(e) {
		cost, ok := a.sm.Ops[op]
		if !ok {
			return fmt.Errorf("%s: Einsum %s uses %q, which the GPU spec does not say how to run (arch.sm.ops lists %s)", e.Pos, e.Name(), op, strings.Join(sortedKeys(a.sm.Ops), ", "))
		}
		ph.FMA += pts * n * cost["fma"]
		ph.SFU += pts * n * cost["sfu"]
	}
	return nil
}

// outside costs the Einsums before and after the key loop, per query row,
// and the resident inputs and outputs.
func (a *analyzer) outside(w *work) error {
	before := true
	for _, e := range a.c.Einsums {
		switch {
		case e.Loop == a.loop:
			before = false
			continue
		case a.viewOf(e) != nil:
			continue
		}
		for _, r := range e.Vars {
			if r.Root() == a.key {
				return fmt.Errorf("%s: Einsum %s iterates %s outside the key loop; %s runs only the loop's Einsums per key block", e.Pos, e.Name(), r.Name, a.m.Name)
			}
		}
		ph := &w.Epilogue
		if before {
			ph = &w.Prologue
		}
		if err := a.elementwise(e, ph); err != nil {
			return err
		}
		ph.Einsums = append(ph.Einsums, e.Name())
	}
	for _, t := range a.c.Inputs {
		if !a.streamedInput(t) {
			n, err := a.tensorRow(t)
			if err != nil {
				return err
			}
			w.LoadRow += n * a.bytes
		}
	}
	for _, t := range a.c.Outputs {
		n, err := a.tensorRow(t)
		if err != nil {
			return err
		}
		w.StoreRow += n * a.bytes
	}
	return nil
}

func (a *analyzer) streamedInput(t *einsum.Tensor) bool {
	for _, d := range t.Dims {
		if d.Rank.Root() == a.key {
			return true
		}
	}
	return false
}

// tensorRow is a resident tensor's elements per query row.
func (a *analyzer) tensorRow(t *einsum.Tensor) (float64, error) {
	n := 1.0
	for _, d := range t.Dims {
		if d.Rank == a.query {
			continue
		}
		v, err := d.Extent.Eval(a.sizes)
		if err != nil {
			return 0, err
		}
		n *= float64(v)
	}
	return math.Max(n, 1), nil
}
