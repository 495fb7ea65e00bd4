package einsum

import (
	"math"
	"slices"
	"strconv"

	"github.com/fusemax/fusemax/einsum/syntax"
)

// checkReads verifies every read of e: the tensor is defined before it is
// read, indexed with its number of dimensions and by its own ranks, in
// range where that can be proved, and recurrences are read with a seed.
func (c *checker) checkReads(e *Einsum) {
	for _, a := range e.Reads() {
		t := a.Tensor
		if len(a.Index) != len(t.Dims) {
			c.errorf(a.Pos, "%s has %d dimensions, indexed here with %d", t.Name, len(t.Dims), len(a.Index))
			continue
		}
		for i, ix := range a.Index {
			d := t.Dims[i]
			if d.Rank != nil && len(ix.Terms) > 0 {
				same := false
				for _, v := range ix.Vars() {
					same = same || v.Root() == d.Rank.Root()
				}
				if !same {
					c.errorf(a.Pos, "%s's dimension %d is indexed by rank %s, not by %s", t.Name, i+1, d.Rank.Name, ix)
					continue
				}
			}
			if d.Extent.IsZero() {
				continue
			}
			lo, hi := ix.Range()
			if len(e.Filters) > 0 {
				// A filter may keep the read in range at the points it
				// admits; only a read outside at every point is certain.
				if c.cascade.LeafForm(lo.Sub(d.Extent)).NonNegative() || hi.Scale(-1).Sub(PolyConst(1)).NonNegative() {
					c.errorf(a.Pos, "read of %s is outside its dimension %d at every point: index %s is at least %s, extent is %s", a, i+1, ix, lo, d.Extent)
				}
				continue
			}
			if c.cascade.LeafForm(hi.Sub(d.Extent)).NonNegative() {
				c.errorf(a.Pos, "read of %s is outside its dimension %d: index %s reaches %s, extent is %s", a, i+1, ix, hi, d.Extent)
			} else if lo.Scale(-1).Sub(PolyConst(1)).NonNegative() {
				c.errorf(a.Pos, "read of %s is outside its dimension %d: index %s can be %s", a, i+1, ix, lo)
			}
		}
		c.checkRecurrenceRead(e, a)
	}
}

// checkRecurrenceRead checks a read of a tensor that a loop defines as
// T[v+w]: before the defining statement in the body, slices up to v+w-1
// exist; after it, up to v+w. A read below v+w needs a seed.
func (c *checker) checkRecurrenceRead(e *Einsum, a *Access) {
	rec := c.recurrence[a.Tensor]
	if rec == nil || e.Loop != rec.loop {
		return
	}
	ix := a.Index[rec.dim]
	if len(ix.Terms) == 0 && !c.isSeedIndex(a.Tensor, rec, ix.Const) {
		c.errorf(a.Pos, "%s reads %s inside iterate %s, but that slice is written only by a later iteration; read it after the block", e.Name(), a, rec.loop.Var.Var())
		return
	}
	coef, ok := ix.Coef(rec.loop.Var).IsConst()
	off, ok2 := ix.Const.IsConst()
	if !ok || !ok2 || coef != 1 || len(ix.Terms) != 1 {
		return
	}
	v := rec.loop.Var.Var()
	before := c.precedes(e, rec.def)
	limit := rec.offset
	if before {
		limit--
	}
	if off > limit {
		c.errorf(a.Pos, "%s reads %s before this iteration defines it (at %s)", e.Name(), a, rec.def.Pos)
		return
	}
	if off < rec.offset && !c.hasSeed(a.Tensor, rec) {
		c.errorf(rec.def.Pos, "recurrence %s has no seed: define %s before the iterate block (e.g. %s = 0) so that %s can be read at %s = 0",
			rec.def.Output, seedName(a.Tensor, rec.dim), seedName(a.Tensor, rec.dim), a, v)
	}
}

func seedName(t *Tensor, dim int) string {
	s := t.Name + "["
	for i, d := range t.Dims {
		if i > 0 {
			s += ", "
		}
		if i == dim {
			s += "0"
		} else if d.Rank != nil {
			s += d.Rank.Var()
		}
	}
	return s + "]"
}

func (c *checker) precedes(a, b *Einsum) bool {
	for _, e := range c.cascade.Einsums {
		if e == a {
			return true
		}
		if e == b {
			return false
		}
	}
	return true // a is the Einsum being checked and not yet appended
}

// isSeedIndex reports whether a definition outside the loop writes t at the
// constant index k of the recurrence's dimension.
func (c *checker) isSeedIndex(t *Tensor, rec *recurrenceDef, k Poly) bool {
	for _, d := range t.Defs {
		ix := d.Output.Index[rec.dim]
		if d.Loop == nil && len(ix.Terms) == 0 && ix.Const.Equal(k) {
			return true
		}
	}
	return false
}

func (c *checker) hasSeed(t *Tensor, rec *recurrenceDef) bool {
	for _, d := range t.Defs {
		if d.Loop == nil {
			if _, ok := d.Output.Index[rec.dim].Const.IsConst(); ok && len(d.Output.Index[rec.dim].Terms) == 0 {
				return true
			}
		}
	}
	return false
}

func (c *checker) cond(sc *syntax.Cond, _ *Loop) (Cond, bool) {
	if sc.Data != nil {
		return c.dataCond(sc.Data)
	}
	n := len(c.errs)
	l := c.affineSafe(sc.Left)
	r := c.affineSafe(sc.Right)
	if len(c.errs) > n {
		return Cond{}, false
	}
	return Cond{Pos: pos(sc.Pos), L: l, Op: cmpOps[sc.Op], R: r}, true
}

var cmpOps = map[string]CmpOp{"==": EQ, "=": EQ, "!=": NE, "≠": NE, "<": LT, "<=": LE, "≤": LE, ">": GT, ">=": GE, "≥": GE}

// dataCond checks a filter that compares tensor elements: each side reads
// a tensor like any right-hand side, or is a number; one side must read.
func (c *checker) dataCond(d *syntax.DataCond) (out Cond, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, isFail := r.(failed); !isFail {
				panic(r)
			}
			ok = false
		}
	}()
	side := func(o *syntax.DataOperand) Expr {
		at := pos(o.Pos)
		switch {
		case o.Ref != nil:
			acc := &syntax.Access{Pos: o.Ref.Pos, Name: o.Ref.Name}
			for _, ix := range o.Ref.Indices {
				acc.Indices = append(acc.Indices, &syntax.Index{Pos: ix.Pos, Expr: ix})
			}
			x := c.read(acc)
			if _, isRead := x.(*Read); !isRead {
				c.fail(at, "a filter compares tensor elements or numbers; %s is not a tensor", o.Ref.Name)
			}
			return x
		case o.Inf:
			return &Const{Pos: at, Value: map[bool]float64{false: posInf, true: negInf}[o.Neg]}
		}
		v, err := strconv.ParseFloat(*o.Number, 64)
		if err != nil || math.IsInf(v, 0) {
			c.fail(at, "number %s is out of range", *o.Number)
		}
		if o.Neg {
			v = -v
		}
		return &Const{Pos: at, Value: v}
	}
	x, y := side(d.Left), side(d.Right)
	_, xr := x.(*Read)
	_, yr := y.(*Read)
	if !xr && !yr {
		c.fail(pos(d.Pos), "this filter compares two numbers; a data filter reads a tensor on one side")
	}
	return Cond{Pos: pos(d.Pos), Op: cmpOps[d.Op], Data: &DataCmp{X: x, Y: y}}, true
}

// affineSafe is affine without the panic, for use outside statements.
func (c *checker) affineSafe(a *syntax.Affine) (out Affine) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(failed); !ok {
				panic(r)
			}
		}
	}()
	return c.affine(a)
}

// linear is an affine form under construction: a constant and one
// coefficient per variable.
type linear struct {
	konst Poly
	coef  map[*Rank]Poly
	order []*Rank
}

func (l linear) toAffine() Affine {
	a := Affine{Const: l.konst}
	for _, v := range l.order {
		if !l.coef[v].IsZero() {
			a.Terms = append(a.Terms, Term{Var: v, Coef: l.coef[v]})
		}
	}
	return a
}

func (c *checker) affine(a *syntax.Affine) Affine {
	l := c.affTerm(a.First)
	for _, r := range a.Rest {
		t := c.affTerm(r.Term)
		if r.Op != "+" {
			t = scaleLinear(t, PolyConst(-1))
		}
		l = addLinear(l, t)
	}
	out := l.toAffine()
	for _, t := range out.Terms {
		if !t.Coef.NonNegative() && !t.Coef.Scale(-1).NonNegative() {
			c.fail(pos(a.Pos), "the coefficient %s of %s has no provable sign", t.Coef, t.Var.Var())
		}
	}
	return out
}

func (c *checker) affTerm(t *syntax.AffTerm) linear {
	l := c.affFactor(t.Factors[0])
	for _, f := range t.Factors[1:] {
		r := c.affFactor(f)
		switch {
		case len(r.order) == 0:
			l = scaleLinear(l, r.konst)
		case len(l.order) == 0:
			l = scaleLinear(r, l.konst)
		default:
			c.fail(pos(f.Pos), "index expressions must be affine: %s multiplies two variables", "this product")
		}
	}
	return l
}

func (c *checker) affFactor(f *syntax.AffFactor) linear {
	switch {
	case f.Int != nil:
		v, err := strconv.ParseInt(*f.Int, 10, 32)
		if err != nil {
			c.fail(pos(f.Pos), "index constant %s is too large", *f.Int)
		}
		return linear{konst: PolyConst(v)}
	case f.Paren != nil:
		a := c.affine(f.Paren)
		l := linear{konst: a.Const, coef: map[*Rank]Poly{}}
		for _, t := range a.Terms {
			l.coef[t.Var] = t.Coef
			l.order = append(l.order, t.Var)
		}
		return l
	}
	name := *f.Name
	if r := c.cascade.Rank(name); r != nil {
		return linear{konst: r.Size()}
	}
	if r := c.vars[name]; r != nil {
		return linear{coef: map[*Rank]Poly{r: PolyConst(1)}, order: []*Rank{r}}
	}
	c.fail(pos(f.Pos), "%s is neither a rank nor the variable of one%s", name, c.rankHint(name))
	return linear{}
}

func scaleLinear(l linear, k Poly) linear {
	out := linear{konst: l.konst.Mul(k), coef: map[*Rank]Poly{}, order: l.order}
	for v, p := range l.coef {
		out.coef[v] = p.Mul(k)
	}
	return out
}

func addLinear(a, b linear) linear {
	out := linear{konst: a.konst.Add(b.konst), coef: map[*Rank]Poly{}, order: append([]*Rank(nil), a.order...)}
	for v, p := range a.coef {
		out.coef[v] = p
	}
	for _, v := range b.order {
		if _, ok := out.coef[v]; !ok {
			out.order = append(out.order, v)
		}
		out.coef[v] = out.coef[v].Add(b.coef[v])
	}
	return out
}

func (c *checker) expr(x *syntax.Expr) Expr {
	e := c.term(x.First)
	for _, r := range x.Rest {
		op := Add
		if r.Op != "+" {
			op = Sub
		}
		e = &Binary{Pos: pos(r.Pos), Op: op, X: e, Y: c.term(r.Term)}
	}
	return e
}

func (c *checker) term(t *syntax.Term) Expr {
	e := c.unary(t.First)
	for _, r := range t.Rest {
		op := Mul
		if r.Op == "/" {
			op = Div
		}
		e = &Binary{Pos: pos(r.Pos), Op: op, X: e, Y: c.unary(r.X)}
	}
	return e
}

func (c *checker) unary(u *syntax.Unary) Expr {
	if u.Neg {
		x := c.unary(u.Negated)
		if k, ok := x.(*Const); ok {
			return &Const{Pos: pos(u.Pos), Value: -k.Value}
		}
		return &Unary{Pos: pos(u.Pos), Op: Neg, X: x}
	}
	return c.primary(u.Primary)
}

var unaryFuncs = map[string]UnaryOp{"exp": Exp, "log": Log, "sqrt": Sqrt, "abs": Abs, "relu": Relu, "sigmoid": Sigmoid,
	"tanh": Tanh, "sign": Sign, "exp2": Exp2, "log2": Log2, "erf": Erf}

var binaryFuncs = map[string]BinaryOp{"max": MaxOf, "min": MinOf, "pow": Pow}

func (c *checker) primary(p *syntax.Primary) Expr {
	at := pos(p.Pos)
	switch {
	case p.Number != nil:
		v, err := strconv.ParseFloat(*p.Number, 64)
		if err != nil || math.IsInf(v, 0) {
			c.fail(at, "number %s is out of range", *p.Number)
		}
		return &Const{Pos: at, Value: v}
	case p.Inf:
		return &Const{Pos: at, Value: math.Inf(1)}
	case p.EPow != nil:
		return &Unary{Pos: at, Op: Exp, X: c.expr(p.EPow)}
	case p.Paren != nil:
		return c.expr(p.Paren)
	case p.Call != nil:
		return c.call(p.Call)
	}
	return c.read(p.Access)
}

func (c *checker) call(call *syntax.Call) Expr {
	at := pos(call.Pos)
	if op, ok := unaryFuncs[call.Func]; ok {
		if len(call.Args) != 1 {
			c.fail(at, "%s takes one argument, not %d", call.Func, len(call.Args))
		}
		return &Unary{Pos: at, Op: op, X: c.expr(call.Args[0])}
	}
	if op, ok := binaryFuncs[call.Func]; ok {
		if len(call.Args) != 2 {
			if op == Pow {
				c.fail(at, "pow(x, y) takes two arguments, not %d", len(call.Args))
			}
			c.fail(at, "%s(a, b) takes two arguments; to reduce a rank, write :: %s(r) after the expression", call.Func, call.Func)
		}
		return &Binary{Pos: at, Op: op, X: c.expr(call.Args[0]), Y: c.expr(call.Args[1])}
	}
	c.fail(at, "unknown function %s (known: exp, exp2, log, log2, sqrt, abs, sign, relu, sigmoid, tanh, erf, max, min, pow)", call.Func)
	return nil
}

func (c *checker) read(a *syntax.Access) Expr {
	at := pos(a.Pos)
	t := c.cascade.Tensor(a.Name)
	if t == nil && len(a.Indices) == 0 {
		if r := c.cascade.Rank(a.Name); r != nil {
			return &SizeValue{Pos: at, Rank: r}
		}
		if r := c.vars[a.Name]; r != nil {
			return &IndexValue{Pos: at, Rank: r}
		}
	}
	if t == nil {
		if c.failedDefs[a.Name] {
			panic(failed{})
		}
		if d, later := c.definedAt[a.Name]; later {
			c.fail(at, "%s is used before it is defined (at %s)", a.Name, d)
		}
		c.fail(at, "undefined tensor %s", a.Name)
	}
	// A statement in an iterate block may read its own tensor at an earlier
	// slice: that is a recurrence, whose seed checkRecurrenceRead verifies.
	selfRecurrence := t == c.current && c.currentIn != nil
	if !c.defined[t] && !selfRecurrence {
		if t.Kind == Output {
			c.fail(at, "output %s is used before it is defined", t.Name)
		}
		c.fail(at, "%s is used before it is defined", t.Name)
	}
	acc := &Access{Pos: at, Tensor: t}
	for _, ix := range a.Indices {
		if len(ix.Filter) > 0 {
			c.fail(pos(ix.Pos), "filters belong on the left-hand side, where they say which points are defined")
		}
		acc.Index = append(acc.Index, c.affine(ix.Expr))
	}
	return &Read{Access: acc}
}

// rhsValueVars lists the variables the right-hand side and the data filters
// depend on: those indexing their reads and those used as values, in order.
func rhsValueVars(e *Einsum) []*Rank {
	var out []*Rank
	for _, acc := range e.Reads() {
		for _, a := range acc.Index {
			out = append(out, a.Vars()...)
		}
	}
	Walk(e.Expr, func(x Expr) {
		if iv, ok := x.(*IndexValue); ok {
			out = append(out, iv.Rank)
		}
	})
	return out
}

// topK checks a `:: topk(v, K)` selection: it stands alone after ::, v is
// a variable of the left-hand side, nothing is reduced, the statement is at
// top level, unfiltered, and its left-hand side is indexed by plain
// variables, so that every fiber along v is complete when it is selected.
func (c *checker) topK(s *syntax.Stmt, e *Einsum, lhsVars []*Rank) *TopK {
	var tk *syntax.TopK
	for _, rd := range s.Reducers {
		if rd.TopK != nil {
			tk = rd.TopK
		}
	}
	if tk == nil {
		return nil
	}
	at := pos(tk.Pos)
	switch {
	case len(s.Reducers) > 1 || len(e.Reductions) > 0:
		c.fail(at, "topk selects along a variable of the left-hand side; it cannot be combined with a reduction (reduce in a statement before)")
	case e.Loop != nil:
		c.fail(at, "topk cannot appear inside an iterate block")
	case len(e.Filters) > 0:
		c.fail(at, "topk cannot be filtered; filter the statement that computes its scores")
	}
	for _, a := range e.Output.Index {
		if _, ok := a.IsVar(); !ok {
			c.fail(at, "topk needs its left-hand side indexed by plain variables, not %s", a)
		}
	}
	v := c.vars[tk.Var.Text]
	if v == nil || !slices.Contains(lhsVars, v) {
		c.fail(pos(tk.Var.Pos), "topk selects along a variable of the left-hand side; %s is not one", tk.Var.Text)
	}
	out := &TopK{Var: v}
	if r := c.cascade.Rank(tk.Count); r != nil {
		out.K = r.Size()
	} else if k, err := strconv.ParseInt(tk.Count, 10, 32); err == nil && k > 0 {
		out.K = PolyConst(k)
	} else {
		c.fail(at, "the count of topk must be a positive integer or a rank size, not %s", tk.Count)
	}
	return out
}
