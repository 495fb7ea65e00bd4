package interp

import (
	"bytes"
	"fmt"
	"math"

	"github.com/fusemax/fusemax/einsum"
)

// stmt is a compiled Einsum.
type stmt struct {
	e   *einsum.Einsum
	out *access
	// outer are the output variables iterated one by one; the vector
	// variable vec (-1 when none) is the innermost. vecOut says it is an
	// output variable; otherwise it is the innermost reduced variable and
	// the output is a single point per outer iteration.
	outer  []int
	vec    int
	vecOut bool
	n      int
	levels []*level
	expr   *node
	fuse   bool // the innermost sum accumulates a product directly

	filters []affine
	fops    []einsum.CmpOp
	data    []dataFilter // data-dependent filters, applied after the affine ones
	// touched: output elements admitted by the filters at some point.
	touched    []byte
	touchedAll bool

	bcast []float64 // a scalar expression broadcast over the vector
}

// level is one reduction: its operator, its variables (iterated one by one)
// and its accumulator, one element per output element of the vector.
type level struct {
	op      einsum.ReduceOp
	slots   []int
	acc     []float64
	has     []byte // elements that received a contribution
	hasAll  bool
	hasUsed bool
}

func (m *machine) compile(e *einsum.Einsum) (*stmt, error) {
	if e.Output == nil || e.Expr == nil {
		return nil, fmt.Errorf("%s: incomplete Einsum", e.Pos)
	}
	s := &stmt{e: e, vec: -1}
	out, err := m.compileAccess(e.Output)
	if err != nil {
		return nil, err
	}
	s.out = out
	if out.ts.mask == nil {
		return nil, fmt.Errorf("%s: %s is an input; it cannot be assigned", e.Pos, e.Name())
	}
	var outVars []int
	for _, r := range e.OutputVars() {
		sl, ok := m.slot[r]
		if !ok {
			return nil, fmt.Errorf("%s: rank %s is not a rank of cascade %s", e.Pos, r.Name, m.c.Name)
		}
		outVars = append(outVars, sl)
	}
	var redVars []int
	for _, r := range e.ReducedVars() {
		sl, ok := m.slot[r]
		if !ok {
			return nil, fmt.Errorf("%s: rank %s is not a rank of cascade %s", e.Pos, r.Name, m.c.Name)
		}
		redVars = append(redVars, sl)
	}
	// Each variable must be iterated by exactly one loop nest level, else
	// the iteration would never end.
	seen := map[int]bool{}
	if e.Loop != nil {
		seen[m.slot[e.Loop.Var]] = true
	}
	for _, v := range append(append([]int{}, outVars...), redVars...) {
		if seen[v] {
			return nil, fmt.Errorf("%s: variable %s is iterated twice (output, reduced or loop variable)", e.Pos, m.c.Ranks[v].Var())
		}
		seen[v] = true
	}
	seq, err := m.selfAliasing(e, out)
	if err != nil {
		return nil, err
	}
	switch {
	case seq:
	case len(outVars) > 0:
		// Vectorize over the output variable with the smallest stride, so
		// that reads and the write are most often contiguous.
		best := int64(math.MaxInt64)
		for _, v := range outVars {
			st := out.stride(v)
			if st < 0 {
				st = -st
			}
			if st != 0 && st <= best {
				best, s.vec = st, v
			}
		}
		s.vecOut = s.vec >= 0
	case len(redVars) > 0:
		s.vec = redVars[len(redVars)-1]
	}
	for _, v := range outVars {
		if v != s.vec {
			s.outer = append(s.outer, v)
		}
	}
	s.n = 1
	if s.vec >= 0 {
		s.n = int(m.rsize[s.vec])
	}
	accLen := s.n
	if s.vec >= 0 && !s.vecOut {
		accLen = 1
	}
	for _, r := range e.Reductions {
		lv := &level{op: r.Op, acc: make([]float64, accLen), has: make([]byte, accLen)}
		for _, v := range r.Vars {
			if sl := m.slot[v]; sl != s.vec {
				lv.slots = append(lv.slots, sl)
			}
		}
		s.levels = append(s.levels, lv)
	}
	for _, f := range e.Filters {
		if f.Data != nil {
			continue // compiled below, once the vector variable is known
		}
		a, err := m.compileCond(f)
		if err != nil {
			return nil, err
		}
		s.filters = append(s.filters, a)
		s.fops = append(s.fops, f.Op)
	}
	s.touched = make([]byte, s.n)
	s.bcast = make([]float64, s.n)
	m.vec = s.vec
	if s.data, err = m.compileDataFilters(e, s.n); err != nil {
		return nil, err
	}
	s.expr, err = m.compileExpr(e.Expr, s.n)
	if err != nil {
		return nil, err
	}
	if s.n > len(m.valid) {
		m.valid = make([]byte, s.n)
		m.fbuf = make([]byte, s.n)
	}
	s.fuse = s.expr.mul && !m.f32 && len(s.levels) > 0 && s.levels[len(s.levels)-1].op == einsum.Sum && (s.vecOut || s.vec < 0)
	return s, nil
}

// selfAliasing reports whether e may read points of its output tensor that
// it also writes in the same execution, which forces point-by-point order.
// Reads provably apart in some dimension (T[m1, p] against T[m1+1, p] with
// m1 fixed by the loop, or different constants) are safe.
func (m *machine) selfAliasing(e *einsum.Einsum, out *access) (bool, error) {
	loop := -1
	if e.Loop != nil {
		loop = m.slot[e.Loop.Var]
	}
	fixed := func(a affine) bool {
		for i, s := range a.slots {
			if a.coefs[i] != 0 && s != loop {
				return false
			}
		}
		return true
	}
	coef := func(a affine, slot int) int64 {
		for i, s := range a.slots {
			if s == slot {
				return a.coefs[i]
			}
		}
		return 0
	}
	for _, r := range e.Reads() {
		if r.Tensor != e.Output.Tensor {
			continue
		}
		apart := false
		for d := range r.Index {
			if d >= len(out.dims) {
				break
			}
			ra, err := m.compileAffine(r.Index[d])
			if err != nil {
				return false, fmt.Errorf("%s: %v", r.Pos, err)
			}
			wa := out.dims[d]
			if fixed(ra) && fixed(wa) && (loop < 0 || coef(ra, loop) == coef(wa, loop)) && ra.c != wa.c {
				apart = true
				break
			}
		}
		if !apart {
			return true, nil
		}
	}
	return false, nil
}

// each runs fn at every point of the variables, the last varying fastest.
func (m *machine) each(slots []int, fn func() error) error {
	for _, s := range slots {
		m.vals[s] = 0
	}
	for {
		if err := fn(); err != nil {
			return err
		}
		i := len(slots) - 1
		for ; i >= 0; i-- {
			s := slots[i]
			m.vals[s]++
			if m.vals[s] < m.rsize[s] {
				break
			}
			m.vals[s] = 0
		}
		if i < 0 {
			return nil
		}
	}
}

func (m *machine) exec(s *stmt) error {
	m.vec, m.n = s.vec, s.n
	m.err = nil
	if s.e.TopK != nil {
		defer m.selectTopK(s)
	}
	if len(s.levels) == 0 {
		return m.each(s.outer, func() error {
			if !m.begin(s) {
				return m.err
			}
			x := m.value(s)
			if m.err != nil || m.none {
				return m.err
			}
			var sel []byte
			if m.masked {
				sel = m.valid[:m.n]
			}
			return m.write(s, x, s.n, sel)
		})
	}
	return m.each(s.outer, func() error {
		s.touchedAll = !s.filtered()
		if !s.touchedAll {
			clear(s.touched)
		}
		m.reset(s.levels[0])
		if err := m.reduce(s, 0); err != nil {
			return err
		}
		count := s.n
		if !s.vecOut && s.vec >= 0 {
			count = 1
			if !s.touchedAll && s.touched[0] == 0 {
				return nil
			}
			return m.write(s, s.levels[0].acc, 1, nil)
		}
		var sel []byte
		if !s.touchedAll {
			sel = s.touched[:count]
		}
		return m.write(s, s.levels[0].acc, count, sel)
	})
}

func (m *machine) reset(lv *level) {
	id := lv.op.Identity()
	for i := range lv.acc {
		lv.acc[i] = id
	}
	lv.hasAll = false
	if lv.hasUsed {
		clear(lv.has)
		lv.hasUsed = false
	}
}

func (m *machine) reduce(s *stmt, k int) error {
	lv := s.levels[k]
	if k == len(s.levels)-1 {
		return m.each(lv.slots, func() error {
			m.accumulate(s, lv)
			return m.err
		})
	}
	inner := s.levels[k+1]
	return m.each(lv.slots, func() error {
		m.reset(inner)
		if err := m.reduce(s, k+1); err != nil {
			return err
		}
		m.fold(lv, inner)
		return nil
	})
}

// fold combines an inner reduction's result into the one around it.
func (m *machine) fold(lv, inner *level) {
	for i, x := range inner.acc {
		if !inner.hasAll && inner.has[i] == 0 {
			continue
		}
		lv.acc[i] = m.combine(lv.op, lv.acc[i], x)
		if !lv.hasAll {
			lv.has[i] = 1
			lv.hasUsed = true
		}
	}
	if inner.hasAll {
		lv.hasAll = true
	}
}

func (m *machine) combine(op einsum.ReduceOp, acc, x float64) float64 {
	switch op {
	case einsum.Max:
		return math.Max(acc, x)
	case einsum.Min:
		return math.Min(acc, x)
	}
	if m.f32 {
		return r32(acc + x)
	}
	return acc + x
}

// begin applies the filters at the current vector; false when no element is
// admitted.
func (m *machine) begin(s *stmt) bool {
	m.masked, m.none, m.fvalid = false, false, nil
	if !s.filtered() {
		return true
	}
	for i := range s.filters {
		base, step := s.filters[i].split(m)
		op := s.fops[i]
		if step == 0 {
			if !op.Holds(base, 0) {
				m.none = true
				return false
			}
			continue
		}
		for k := 0; k < m.n; k++ {
			if !op.Holds(base+step*int64(k), 0) {
				m.invalidate(k)
			}
		}
	}
	if len(s.data) > 0 && !m.applyData(s) {
		m.none = true
		return false
	}
	if m.masked {
		m.fvalid = m.fbuf[:m.n]
		copy(m.fvalid, m.valid[:m.n])
		if bytes.IndexByte(m.fvalid, 1) < 0 {
			m.none = true
			return false
		}
		if !s.vecOut && s.vec >= 0 {
			s.touched[0] = 1
		} else {
			for k, f := range m.fvalid {
				s.touched[k] |= f
			}
		}
	} else {
		s.touchedAll = true
	}
	return true
}

// value evaluates the expression as a vector.
func (m *machine) value(s *stmt) []float64 {
	if s.expr.dep {
		return s.expr.v()
	}
	x := s.expr.s()
	b := s.bcast[:m.n]
	for i := range b {
		b[i] = x
	}
	return b
}

// accumulate evaluates the expression at the current point of the innermost
// reduction and combines it into lv.
func (m *machine) accumulate(s *stmt, lv *level) {
	if !m.begin(s) {
		return
	}
	if s.fuse && m.fusedSum(s, lv) {
		return
	}
	x := m.value(s)
	if m.err != nil || m.none {
		return
	}
	acc := lv.acc
	if !s.vecOut && s.vec >= 0 {
		// Horizontal: the vector runs over a reduced variable, in order.
		a, got := acc[0], false
		for i, v := range x {
			if m.masked && m.valid[i] == 0 {
				continue
			}
			a = m.combine(lv.op, a, v)
			got = true
		}
		acc[0] = a
		if got {
			lv.has[0] = 1
			lv.hasUsed = true
		}
		return
	}
	if m.masked {
		for i, v := range x {
			if m.valid[i] != 0 {
				acc[i] = m.combine(lv.op, acc[i], v)
				lv.has[i] = 1
			}
		}
		lv.hasUsed = true
		return
	}
	lv.hasAll = true
	acc = acc[:len(x)]
	switch {
	case lv.op == einsum.Sum && !m.f32:
		for i, v := range x {
			acc[i] += v
		}
	case lv.op == einsum.Sum:
		for i, v := range x {
			acc[i] = r32(acc[i] + v)
		}
	case lv.op == einsum.Max:
		for i, v := range x {
			acc[i] = math.Max(acc[i], v)
		}
	default:
		for i, v := range x {
			acc[i] = math.Min(acc[i], v)
		}
	}
}

// fusedSum accumulates acc += x*y without materializing the product, in
// float64 only. It reports false when masks make the general path
// necessary; the operands it evaluated are then recomputed, which is
// harmless because evaluation has no effect but on the masks.
func (m *machine) fusedSum(s *stmt, lv *level) bool {
	a, b := s.expr.mx, s.expr.my
	var xv, yv []float64
	var xs, ys float64
	if a.dep {
		xv = a.v()
	} else {
		xs = a.s()
	}
	if b.dep {
		yv = b.v()
	} else {
		ys = b.s()
	}
	if m.err != nil || m.none {
		return true
	}
	if m.masked {
		// Reapply the filters so that the general path starts from them.
		m.begin(s)
		return false
	}
	lv.hasAll = true
	acc := lv.acc[:m.n]
	// The explicit conversions forbid fusing into an FMA, which would
	// change results between architectures.
	switch {
	case a.dep && b.dep:
		yv = yv[:len(xv)]
		for i := range xv {
			acc[i] += float64(xv[i] * yv[i])
		}
	case a.dep:
		for i, x := range xv {
			acc[i] += float64(x * ys)
		}
	case b.dep:
		for i, y := range yv {
			acc[i] += float64(xs * y)
		}
	default:
		p := float64(xs * ys)
		for i := range acc {
			acc[i] += p
		}
	}
	return true
}

// write stores count elements of x (those selected by sel, all when nil)
// at the output access, enforcing single assignment.
func (m *machine) write(s *stmt, x []float64, count int, sel []byte) error {
	ac := s.out
	ts := ac.ts
	base, step, inRange := m.locate(ac, count)
	for k := 0; k < count; k++ {
		if sel != nil && sel[k] == 0 {
			continue
		}
		off := base + k*step
		if !inRange {
			var ok bool
			if off, ok = ac.offsetAt(k); !ok {
				return fmt.Errorf("%s: %s writes %s, outside %s's extent %v", s.e.Pos, s.e.Name(), ac.point(k), ts.t.Name, ts.d.Shape)
			}
		}
		if ts.mask[off] != 0 {
			return fmt.Errorf("%s: %s is already defined: a tensor point is assigned once (two definitions overlap, or one is repeated)", s.e.Pos, ac.point(k))
		}
		ts.d.Data[off] = x[k]
		ts.mask[off] = 1
		ts.ndef++
	}
	if ts.ndef == len(ts.mask) {
		ts.full = true
	}
	return nil
}
