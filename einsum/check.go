package einsum

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/fusemax/fusemax/einsum/syntax"
)

// Parse parses and checks src. The error, if any, is a *syntax.Error or an
// ErrorList; both print as file:line:col: message.
func Parse(filename string, src []byte) (*Program, error) {
	f, err := syntax.ParseFile(filename, src)
	if err != nil {
		var se *syntax.Error
		if e, ok := err.(*syntax.Error); ok {
			se = e
			return nil, ErrorList{{Pos: pos(se.Pos), Msg: se.Msg}}
		}
		return nil, err
	}
	return Check(f)
}

// Check resolves names and verifies a parsed file. It reports every error it
// finds (ErrorList), not only the first.
func Check(f *syntax.File) (*Program, error) {
	prog := &Program{File: f.Name}
	var errs ErrorList
	seen := map[string]Pos{}
	for _, sc := range f.Cascades {
		c := &checker{cascade: &Cascade{Name: sc.Name, Pos: pos(sc.Pos)}}
		c.cascade.Comment = leadingComment(f.Comments, sc.Pos.Line)
		if p, dup := seen[sc.Name]; dup {
			c.errorf(c.cascade.Pos, "cascade %s is already defined at %s", sc.Name, p)
		}
		seen[sc.Name] = c.cascade.Pos
		c.check(sc)
		errs = append(errs, c.errs...)
		prog.Cascades = append(prog.Cascades, c.cascade)
	}
	if len(f.Cascades) == 0 {
		errs = append(errs, errorf(Pos{File: f.Name, Line: 1, Col: 1}, "no cascade in file"))
	}
	if len(errs) > 0 {
		errs.sort()
		return nil, errs
	}
	return prog, nil
}

// leadingComment joins the comment lines that directly precede line.
func leadingComment(comments []syntax.Comment, line int) string {
	var lines []string
	want := line - 1
	for i := len(comments) - 1; i >= 0; i-- {
		c := comments[i]
		if c.Pos.Line > want {
			continue
		}
		if c.Pos.Line < want {
			break
		}
		lines = append([]string{strings.TrimSpace(strings.TrimPrefix(c.Text, "#"))}, lines...)
		want--
	}
	return strings.Join(lines, "\n")
}

func pos(p lexer.Position) Pos { return Pos{File: p.Filename, Line: p.Line, Col: p.Column} }

type checker struct {
	cascade *Cascade
	errs    ErrorList
	vars    map[string]*Rank // lower-case variable → rank
	defined map[*Tensor]bool // tensors with a definition so far, in program order
	// extents collects, per intermediate tensor dimension, the greatest index
	// each definition writes.
	written map[*Tensor][][]Poly
	// recurrence tracks, for a tensor defined in a loop, the offset w of its
	// loop-variable index (T[v+w]) and the Einsum that writes it.
	recurrence map[*Tensor]*recurrenceDef
	// definedAt is where each name is first assigned anywhere in the
	// cascade, so that a read before it can say "used before it is defined".
	definedAt map[string]Pos
	// failedDefs are names whose definition had an error; later messages
	// about them would only repeat it.
	failedDefs map[string]bool
	current    *Tensor // the tensor the statement being checked defines
	currentIn  *Loop
}

type recurrenceDef struct {
	loop   *Loop
	dim    int
	offset int64
	def    *Einsum
}

func (c *checker) errorf(p Pos, format string, args ...any) {
	c.errs = append(c.errs, errorf(p, format, args...))
}

// failed is returned by helpers after they report an error, so that one
// statement yields one message rather than a cascade of follow-ups.
type failed struct{}

func (c *checker) check(sc *syntax.Cascade) {
	c.vars = map[string]*Rank{}
	c.defined = map[*Tensor]bool{}
	c.written = map[*Tensor][][]Poly{}
	c.recurrence = map[*Tensor]*recurrenceDef{}
	c.definedAt = map[string]Pos{}
	c.failedDefs = map[string]bool{}
	var scan func(items []*syntax.Item)
	scan = func(items []*syntax.Item) {
		for _, it := range items {
			if it.Stmt != nil {
				if _, ok := c.definedAt[it.Stmt.Lhs.Name]; !ok {
					c.definedAt[it.Stmt.Lhs.Name] = pos(it.Stmt.Lhs.Pos)
				}
			} else if it.Iterate != nil {
				scan(it.Iterate.Body)
			}
		}
	}
	scan(sc.Items)
	for _, it := range sc.Items {
		c.item(it, nil)
	}
	c.finish()
}

func (c *checker) item(it *syntax.Item, loop *Loop) {
	if loop != nil && it.Stmt == nil {
		what := "a declaration"
		if it.Iterate != nil {
			what = "a nested iterate block (not supported yet)"
		}
		c.errorf(pos(it.Pos), "%s cannot appear inside an iterate block", what)
		return
	}
	switch {
	case it.Ranks != nil:
		for _, n := range it.Ranks.Names {
			c.declareRank(n, nil)
		}
	case it.Split != nil:
		c.split(it.Split)
	case it.Input != nil:
		c.declareTensors(it.Input, Input)
	case it.Output != nil:
		c.declareTensors(it.Output, Output)
	case it.Iterate != nil:
		c.iterate(it.Iterate)
	case it.Stmt != nil:
		c.stmt(it.Stmt, loop)
	}
}

func (c *checker) declareRank(n *syntax.Name, parent *Rank) *Rank {
	p := pos(n.Pos)
	if !unicode.IsUpper([]rune(n.Text)[0]) {
		c.errorf(p, "rank %s must start with an upper-case letter (its lower-case form %s is the variable that iterates it)", n.Text, strings.ToLower(n.Text))
		return nil
	}
	if r := c.cascade.Rank(n.Text); r != nil {
		c.errorf(p, "rank %s is already declared at %s", n.Text, r.Pos)
		return nil
	}
	if r, ok := c.vars[strings.ToLower(n.Text)]; ok {
		c.errorf(p, "rank %s would share its variable %s with rank %s", n.Text, strings.ToLower(n.Text), r.Name)
		return nil
	}
	r := &Rank{Name: n.Text, Pos: p, Parent: parent}
	c.cascade.Ranks = append(c.cascade.Ranks, r)
	c.vars[r.Var()] = r
	return r
}

func (c *checker) split(s *syntax.SplitDecl) {
	r := c.cascade.Rank(s.Rank.Text)
	switch {
	case r == nil:
		c.errorf(pos(s.Rank.Pos), "split of undeclared rank %s (declare it with ranks)", s.Rank.Text)
		return
	case len(r.Parts) > 0:
		c.errorf(pos(s.Rank.Pos), "rank %s is already split", r.Name)
		return
	}
	for _, n := range s.Parts {
		if p := c.declareRank(n, r); p != nil {
			r.Parts = append(r.Parts, p)
		}
	}
}

func (c *checker) declareTensors(l *syntax.TensorList, kind TensorKind) {
	for _, d := range l.Tensors {
		p := pos(d.Pos)
		if t := c.cascade.Tensor(d.Name); t != nil {
			c.errorf(p, "tensor %s is already declared at %s", d.Name, t.Pos)
			continue
		}
		if c.cascade.Rank(d.Name) != nil {
			c.errorf(p, "%s is a rank; a tensor cannot have the same name", d.Name)
			continue
		}
		t := &Tensor{Name: d.Name, Kind: kind, Pos: p, Partial: d.Partial}
		if d.Partial && kind != Output {
			c.errorf(p, "only an output can be declared partial")
		}
		ok := true
		for _, ix := range d.Indices {
			r := c.vars[ix.Text]
			if r == nil {
				c.errorf(pos(ix.Pos), "%s is not the variable of a declared rank%s", ix.Text, c.rankHint(ix.Text))
				ok = false
				continue
			}
			t.Dims = append(t.Dims, Dim{Rank: r, Extent: r.Size()})
		}
		if !ok {
			continue
		}
		c.cascade.Tensors = append(c.cascade.Tensors, t)
		if kind == Input {
			c.cascade.Inputs = append(c.cascade.Inputs, t)
			c.defined[t] = true
		} else {
			c.cascade.Outputs = append(c.cascade.Outputs, t)
		}
	}
}

func (c *checker) rankHint(name string) string {
	up := strings.ToUpper(name)
	if name == up {
		if c.cascade.Rank(name) != nil {
			return fmt.Sprintf(" (%s is a rank; its variable is %s)", name, strings.ToLower(name))
		}
		return ""
	}
	return fmt.Sprintf(" (declare rank %s)", up)
}

func (c *checker) iterate(it *syntax.Iterate) {
	r := c.vars[it.Var.Text]
	if r == nil {
		c.errorf(pos(it.Var.Pos), "iterate over %s: not the variable of a declared rank%s", it.Var.Text, c.rankHint(it.Var.Text))
		return
	}
	for _, l := range c.cascade.Loops {
		if l.Var == r {
			c.errorf(pos(it.Pos), "rank %s is already iterated by the block at %s", r.Name, l.Pos)
			return
		}
	}
	loop := &Loop{Pos: pos(it.Pos), Var: r}
	if it.Until.Data != nil {
		c.errorf(pos(it.Until.Pos), "the stopping condition compares index expressions; it cannot read tensor elements")
		return
	}
	cond, ok := c.cond(it.Until, nil)
	if !ok {
		return
	}
	if !mentions(cond, r) {
		c.errorf(pos(it.Until.Pos), "the stopping condition must mention the iterated variable %s", r.Var())
		return
	}
	for _, side := range []Affine{cond.L, cond.R} {
		for _, t := range side.Terms {
			if t.Var != r {
				c.errorf(pos(it.Until.Pos), "the stopping condition may use only %s and rank sizes, not %s", r.Var(), t.Var.Var())
				return
			}
		}
	}
	loop.Until = cond
	c.cascade.Loops = append(c.cascade.Loops, loop)
	for _, item := range it.Body {
		c.item(item, loop)
	}
	if len(it.Body) == 0 {
		// A block whose statements were all rejected has its errors already.
		c.errorf(loop.Pos, "empty iterate block: it needs at least one statement")
	}
}

func mentions(c Cond, r *Rank) bool {
	for _, a := range []Affine{c.L, c.R} {
		for _, t := range a.Terms {
			if t.Var == r {
				return true
			}
		}
	}
	return false
}

// stmt checks one Einsum and appends it to the cascade.
func (c *checker) stmt(s *syntax.Stmt, loop *Loop) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(failed); !ok {
				panic(r)
			}
			c.failedDefs[s.Lhs.Name] = true
		}
	}()
	e := &Einsum{Pos: pos(s.Pos), Loop: loop}
	t := c.lhsTensor(s.Lhs)
	c.current, c.currentIn = t, loop
	out := &Access{Pos: pos(s.Lhs.Pos), Tensor: t}
	if len(s.Lhs.Indices) != len(t.Dims) && (t.Kind == Output || len(t.Defs) > 0) {
		c.fail(out.Pos, "%s has %d dimensions, indexed here with %d", t.Name, len(t.Dims), len(s.Lhs.Indices))
	}
	for _, ix := range s.Lhs.Indices {
		a := c.affine(ix.Expr)
		out.Index = append(out.Index, a)
		for _, f := range ix.Filter {
			cond, ok := c.cond(f, nil)
			if !ok {
				panic(failed{})
			}
			e.Filters = append(e.Filters, cond)
		}
	}
	e.Output = out
	e.Expr = c.expr(s.Rhs)

	// The iteration space: the left's variables, then those only on the right.
	var lhsVars, rhsVars []*Rank
	add := func(list *[]*Rank, r *Rank) {
		for _, x := range *list {
			if x == r {
				return
			}
		}
		*list = append(*list, r)
	}
	for _, a := range out.Index {
		for _, v := range a.Vars() {
			if loop == nil || v != loop.Var {
				add(&lhsVars, v)
			}
		}
	}
	inLHS := func(v *Rank) bool {
		for _, x := range lhsVars {
			if x == v {
				return true
			}
		}
		return loop != nil && v == loop.Var
	}
	for _, v := range rhsValueVars(e) {
		if !inLHS(v) {
			add(&rhsVars, v)
		}
	}
	for _, f := range e.Filters {
		{
			for _, v := range f.Vars() {
				if !inLHS(v) {
					isRHS := false
					for _, x := range rhsVars {
						isRHS = isRHS || x == v
					}
					if !isRHS {
						c.fail(f.Pos, "filter variable %s does not appear in the statement", v.Var())
					}
				}
			}
		}
	}
	e.Reductions = c.reductions(s, rhsVars)
	e.TopK = c.topK(s, e, lhsVars)
	e.Vars = append(lhsVars, flattenReductions(e.Reductions)...)

	c.define(e, t, loop)
	c.cascade.Einsums = append(c.cascade.Einsums, e)
	if loop != nil {
		loop.Body = append(loop.Body, e)
	}
}

func (c *checker) fail(p Pos, format string, args ...any) {
	c.errorf(p, format, args...)
	panic(failed{})
}

func flattenReductions(rs []Reduction) []*Rank {
	var out []*Rank
	for _, r := range rs {
		out = append(out, r.Vars...)
	}
	return out
}

// reductions orders the reduced variables: the ranks named after ::, in the
// order written (outermost first), then any other reduced variable by sum.
func (c *checker) reductions(s *syntax.Stmt, reduced []*Rank) []Reduction {
	var out []Reduction
	named := map[*Rank]bool{}
	for _, rd := range s.Reducers {
		if rd.TopK != nil {
			continue
		}
		op, names := rd.Op, rd.Ranks
		if rd.EdgeRank != nil {
			op, names = rd.EdgeOp, []*syntax.Name{rd.EdgeRank}
			if op == "+" {
				op = "sum"
			}
		}
		red := Reduction{Op: map[string]ReduceOp{"sum": Sum, "max": Max, "min": Min}[op]}
		for _, n := range names {
			v := c.vars[n.Text]
			p := pos(n.Pos)
			switch {
			case v == nil:
				c.fail(p, "%s is not the variable of a declared rank%s", n.Text, c.rankHint(n.Text))
			case named[v]:
				c.fail(p, "%s is reduced twice", n.Text)
			}
			isReduced := false
			for _, r := range reduced {
				isReduced = isReduced || r == v
			}
			if !isReduced {
				c.fail(p, "%s is not reduced here: it does not appear on the right, or it also appears on the left", n.Text)
			}
			named[v] = true
			red.Vars = append(red.Vars, v)
		}
		out = append(out, red)
	}
	var rest []*Rank
	for _, r := range reduced {
		if !named[r] {
			rest = append(rest, r)
		}
	}
	if len(rest) > 0 {
		out = append(out, Reduction{Op: Sum, Vars: rest})
	}
	return out
}

// lhsTensor finds or creates the tensor a statement defines.
func (c *checker) lhsTensor(a *syntax.Access) *Tensor {
	p := pos(a.Pos)
	if c.cascade.Rank(a.Name) != nil {
		c.fail(p, "%s is a rank; it cannot be assigned", a.Name)
	}
	t := c.cascade.Tensor(a.Name)
	if t == nil {
		t = &Tensor{Name: a.Name, Kind: Intermediate, Pos: p}
		for _, ix := range a.Indices {
			t.Dims = append(t.Dims, Dim{Rank: c.dimRank(ix.Expr)})
		}
		c.cascade.Tensors = append(c.cascade.Tensors, t)
	}
	if t.Kind == Input {
		c.fail(p, "%s is an input; it cannot be assigned", t.Name)
	}
	return t
}

// dimRank guesses the rank a dimension is indexed by from the first
// variable of its index expression; constant indices leave it for a later
// definition to fill in.
func (c *checker) dimRank(a *syntax.Affine) *Rank {
	for _, t := range append([]*syntax.AffTerm{a.First}, restTerms(a)...) {
		for _, f := range t.Factors {
			if f.Name != nil {
				if r := c.vars[*f.Name]; r != nil {
					return r
				}
			}
		}
	}
	return nil
}

func restTerms(a *syntax.Affine) []*syntax.AffTerm {
	out := make([]*syntax.AffTerm, len(a.Rest))
	for i, r := range a.Rest {
		out[i] = r.Term
	}
	return out
}

// define records e as a definition of t and checks it against earlier ones.
func (c *checker) define(e *Einsum, t *Tensor, loop *Loop) {
	out := e.Output
	if loop != nil && t.Kind != Output {
		dim := -1
		for i, a := range out.Index {
			if !a.Coef(loop.Var).IsZero() {
				dim = i
			}
		}
		if dim < 0 {
			c.fail(out.Pos, "%s is defined inside iterate %s but not indexed by %s: every iteration would overwrite it", t.Name, loop.Var.Var(), loop.Var.Var())
		}
		off, ok := out.Index[dim].Const.IsConst()
		if coef, ok2 := out.Index[dim].Coef(loop.Var).IsConst(); !ok || !ok2 || coef != 1 || len(out.Index[dim].Terms) != 1 {
			c.fail(out.Pos, "inside iterate %s, %s must be indexed by %s plus a constant in its dimension %d", loop.Var.Var(), t.Name, loop.Var.Var(), dim+1)
		}
		if prev := c.recurrence[t]; prev == nil {
			c.recurrence[t] = &recurrenceDef{loop: loop, dim: dim, offset: off, def: e}
		}
	} else if loop != nil {
		c.fail(out.Pos, "output %s cannot be defined inside an iterate block; define it after the block from the final state", t.Name)
	}
	for _, prev := range t.Defs {
		if !c.disjoint(prev, e) {
			c.fail(out.Pos, "%s is already defined at %s (a tensor is defined once; a second definition must write other points, e.g. a seed %s[0, ...] and a recurrence %s[m1+1, ...], or use filters)", t.Name, prev.Pos, t.Name, t.Name)
		}
	}
	// The dimension's rank may first become known from a later definition.
	for i, a := range out.Index {
		if i < len(t.Dims) && t.Dims[i].Rank == nil && len(a.Terms) > 0 {
			t.Dims[i].Rank = a.Terms[0].Var
		}
	}
	his := make([]Poly, len(out.Index))
	for i, a := range out.Index {
		lo, hi := a.Range()
		if !lo.NonNegative() {
			c.fail(out.Pos, "%s's index %d can be negative (%s)", t.Name, i+1, a)
		}
		his[i] = hi
	}
	c.written[t] = append(c.written[t], his)
	t.Defs = append(t.Defs, e)
	c.defined[t] = true
}

// disjoint reports whether two definitions of one tensor provably write
// different points: in some dimension, their index ranges do not overlap,
// or either is filtered (the interpreter then checks single assignment at
// run time).
func (c *checker) disjoint(a, b *Einsum) bool {
	if len(a.Filters) > 0 || len(b.Filters) > 0 {
		return true
	}
	for i := range a.Output.Index {
		if i >= len(b.Output.Index) {
			return true
		}
		alo, ahi := a.Output.Index[i].Range()
		blo, bhi := b.Output.Index[i].Range()
		one := PolyConst(1)
		if blo.Sub(ahi).Sub(one).NonNegative() || alo.Sub(bhi).Sub(one).NonNegative() {
			return true
		}
	}
	return false
}

// finish computes intermediate extents and checks what needs every
// definition: reads in range, seeds, outputs defined.
func (c *checker) finish() {
	cs := c.cascade
	for _, t := range cs.Tensors {
		if t.Kind == Intermediate {
			c.extents(t)
		}
	}
	for _, e := range cs.Einsums {
		c.checkReads(e)
	}
	for _, t := range cs.Outputs {
		if len(t.Defs) == 0 && !c.failedDefs[t.Name] {
			c.errorf(t.Pos, "output %s is never defined", t.Name)
		}
	}
	// Order tensors: inputs, outputs, then intermediates in definition order.
	var ordered []*Tensor
	ordered = append(ordered, cs.Inputs...)
	ordered = append(ordered, cs.Outputs...)
	for _, t := range cs.Tensors {
		if t.Kind == Intermediate {
			ordered = append(ordered, t)
		}
	}
	cs.Tensors = ordered
}

func (c *checker) extents(t *Tensor) {
	for i := range t.Dims {
		var ext Poly
		for k, his := range c.written[t] {
			if i >= len(his) {
				continue
			}
			cand := his[i].Add(PolyConst(1))
			switch {
			case k == 0:
				ext = cand
			case c.cascade.LeafForm(cand.Sub(ext)).NonNegative():
				ext = cand
			case c.cascade.LeafForm(ext.Sub(cand)).NonNegative():
			default:
				c.errorf(t.Defs[k].Pos, "cannot tell which of %s and %s is the larger extent of %s's dimension %d", ext, cand, t.Name, i+1)
			}
		}
		t.Dims[i].Extent = ext
	}
}
