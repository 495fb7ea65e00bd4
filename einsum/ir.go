package einsum

import (
	"fmt"
	"strings"
)

// Pos is a position in a source file. Line and Col count from 1.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string {
	if p.File == "" {
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Program is every cascade of one source file, checked.
type Program struct {
	File     string
	Cascades []*Cascade
}

// Cascade looks a cascade up by name.
func (p *Program) Cascade(name string) *Cascade {
	for _, c := range p.Cascades {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Cascade is one checked cascade of extended Einsums.
type Cascade struct {
	Name    string
	Pos     Pos
	Comment string // the comment lines directly above the cascade, without '#'

	// Ranks in declaration order; split parts follow their parent's
	// declaration order (M, then M1, M0).
	Ranks   []*Rank
	Tensors []*Tensor // inputs first (declared order), then outputs, then intermediates in definition order
	Inputs  []*Tensor
	Outputs []*Tensor

	// Einsums in execution order; those inside an iterate block have Loop set.
	Einsums []*Einsum
	Loops   []*Loop
}

// Rank returns the rank with the given (upper-case) name.
func (c *Cascade) Rank(name string) *Rank {
	for _, r := range c.Ranks {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Tensor returns the tensor with the given name.
func (c *Cascade) Tensor(name string) *Tensor {
	for _, t := range c.Tensors {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// LeafForm rewrites the sizes of split ranks in p as products of their
// parts, so that M and M1*M0 compare equal.
func (c *Cascade) LeafForm(p Poly) Poly {
	for changed := true; changed; {
		changed = false
		for _, s := range p.Sizes() {
			if r := c.Rank(s); r != nil && len(r.Parts) > 0 {
				prod := PolyConst(1)
				for _, q := range r.Parts {
					prod = prod.Mul(q.Size())
				}
				p = p.Substitute(s, prod)
				changed = true
			}
		}
	}
	return p
}

// Rank is a named index range. Its upper-case name is also its size, and its
// lower-case name is the variable that iterates it. A rank split into parts
// (split M into M1, M0) has Parts outer first; each part has Parent set, and
// a parent's size is the product of its parts' sizes.
type Rank struct {
	Name   string
	Pos    Pos
	Parent *Rank
	Parts  []*Rank
}

// Var is the variable that iterates r: its name in lower case.
func (r *Rank) Var() string { return strings.ToLower(r.Name) }

// Root is the unsplit rank r belongs to (r itself when not a part).
func (r *Rank) Root() *Rank {
	for r.Parent != nil {
		r = r.Parent
	}
	return r
}

// Size is the polynomial naming r's size.
func (r *Rank) Size() Poly { return PolySize(r.Name) }

func (r *Rank) String() string { return r.Name }

// TensorKind says where a tensor comes from.
type TensorKind int

const (
	Intermediate TensorKind = iota
	Input
	Output
)

func (k TensorKind) String() string {
	return [...]string{"intermediate", "input", "output"}[k]
}

// Tensor is a named dense tensor. Each dimension has the rank that indexes
// it and its extent, which can exceed the rank's size: a recurrence RM[m1+1, p]
// seeded at RM[0, p] has extent M1+1 in its first dimension.
type Tensor struct {
	Name string
	Kind TensorKind
	Pos  Pos // declaration (inputs, outputs) or first definition
	Dims []Dim
	Defs []*Einsum // the Einsums that write it, in execution order
	// Partial is set for an output declared `output partial`: points no
	// statement defines are allowed (and read as NaN). Any other output
	// must be defined at every point, which both backends check.
	Partial bool
}

// Dim is one dimension of a tensor.
type Dim struct {
	Rank   *Rank
	Extent Poly
}

// Shape evaluates the tensor's extents.
func (t *Tensor) Shape(sizes map[string]int64) []int {
	s := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		s[i] = int(d.Extent.MustEval(sizes))
	}
	return s
}

// Size is the product of the tensor's extents as a polynomial.
func (t *Tensor) Size() Poly {
	p := PolyConst(1)
	for _, d := range t.Dims {
		p = p.Mul(d.Extent)
	}
	return p
}

// Affine is an index expression Const + Σ Coef[i]·Vars[i]. Coefficients and
// the constant are polynomials in rank sizes (m1*M0 + m0 has coefficient M0
// for m1), and a variable appears at most once.
type Affine struct {
	Const Poly
	Terms []Term
}

// Term is one variable of an affine expression with its coefficient.
type Term struct {
	Var  *Rank // the rank whose variable this is
	Coef Poly
}

// IsVar reports whether a is exactly one variable with coefficient 1.
func (a Affine) IsVar() (*Rank, bool) {
	if len(a.Terms) == 1 && a.Const.IsZero() {
		if c, ok := a.Terms[0].Coef.IsConst(); ok && c == 1 {
			return a.Terms[0].Var, true
		}
	}
	return nil, false
}

// Vars lists the variables a mentions, in order.
func (a Affine) Vars() []*Rank {
	v := make([]*Rank, len(a.Terms))
	for i, t := range a.Terms {
		v[i] = t.Var
	}
	return v
}

// Coef returns the coefficient of r in a (zero when absent).
func (a Affine) Coef(r *Rank) Poly {
	for _, t := range a.Terms {
		if t.Var == r {
			return t.Coef
		}
	}
	return Poly{}
}

// Eval evaluates a at a point: vars gives the value of each variable.
func (a Affine) Eval(sizes map[string]int64, vars map[*Rank]int64) int64 {
	v := a.Const.MustEval(sizes)
	for _, t := range a.Terms {
		v += t.Coef.MustEval(sizes) * vars[t.Var]
	}
	return v
}

// Range returns the least and greatest values of a over the ranges of its
// variables (each var r in [0, r.Size()-1]), as polynomials. Every
// coefficient has a sign that NonNegative can prove one way or the other,
// which Check guarantees.
func (a Affine) Range() (lo, hi Poly) {
	lo, hi = a.Const, a.Const
	for _, t := range a.Terms {
		span := t.Coef.Mul(t.Var.Size().Sub(PolyConst(1)))
		if t.Coef.NonNegative() {
			hi = hi.Add(span)
		} else {
			lo = lo.Add(span)
		}
	}
	return lo, hi
}

func (a Affine) String() string {
	var parts []string
	for _, t := range a.Terms {
		if c, ok := t.Coef.IsConst(); ok && c == 1 {
			parts = append(parts, t.Var.Var())
		} else if ok {
			parts = append(parts, fmt.Sprintf("%d*%s", c, t.Var.Var()))
		} else if len(t.Coef.terms) == 1 {
			parts = append(parts, t.Var.Var()+"*"+t.Coef.String())
		} else {
			parts = append(parts, t.Var.Var()+"*("+t.Coef.String()+")")
		}
	}
	if !a.Const.IsZero() || len(parts) == 0 {
		c := a.Const.String()
		if len(parts) > 0 && strings.HasPrefix(c, "-") {
			return strings.Join(parts, " + ") + " - " + c[1:]
		}
		parts = append(parts, c)
	}
	return strings.Join(parts, " + ")
}

// CmpOp is a comparison of a filter or a stopping condition.
type CmpOp int

const (
	EQ CmpOp = iota
	NE
	LT
	LE
	GT
	GE
)

func (o CmpOp) String() string { return [...]string{"==", "!=", "<", "<=", ">", ">="}[o] }

// Holds applies the comparison.
func (o CmpOp) Holds(l, r int64) bool {
	switch o {
	case EQ:
		return l == r
	case NE:
		return l != r
	case LT:
		return l < r
	case LE:
		return l <= r
	case GT:
		return l > r
	default:
		return l >= r
	}
}

// Cond compares two affine expressions or, when Data is set, two values
// read from tensors (or constants) at the point: a data-dependent filter.
type Cond struct {
	Pos  Pos
	L    Affine
	Op   CmpOp
	R    Affine
	Data *DataCmp
}

// DataCmp is the value comparison of a data-dependent filter, X Op Y: each
// side is a *Read or a *Const. A point whose read is undefined, or where
// either side is NaN, does not satisfy it.
type DataCmp struct {
	X, Y Expr
}

// Holds evaluates an affine condition at a point (not a data one: that
// needs tensor values, which only a backend has).
func (c Cond) Holds(sizes map[string]int64, vars map[*Rank]int64) bool {
	return c.Op.Holds(c.L.Eval(sizes, vars), c.R.Eval(sizes, vars))
}

// HoldsValue compares two values as a data condition does: false when
// either is NaN.
func (o CmpOp) HoldsValue(x, y float64) bool {
	switch o {
	case EQ:
		return x == y
	case NE:
		return x != y && x == x && y == y
	case LT:
		return x < y
	case LE:
		return x <= y
	case GT:
		return x > y
	default:
		return x >= y
	}
}

// Vars lists the variables the condition depends on: those of its affine
// sides, or of the indices its data sides read.
func (c Cond) Vars() []*Rank {
	if c.Data == nil {
		return append(c.L.Vars(), c.R.Vars()...)
	}
	var out []*Rank
	for _, x := range []Expr{c.Data.X, c.Data.Y} {
		if r, ok := x.(*Read); ok {
			for _, ix := range r.Access.Index {
				out = append(out, ix.Vars()...)
			}
		}
	}
	return out
}

func (c Cond) String() string {
	if c.Data != nil {
		return exprString(c.Data.X) + " " + c.Op.String() + " " + exprString(c.Data.Y)
	}
	return c.L.String() + " " + c.Op.String() + " " + c.R.String()
}

func exprString(x Expr) string {
	if r, ok := x.(*Read); ok {
		return r.Access.String()
	}
	if k, ok := x.(*Const); ok {
		return FormatConst(k.Value)
	}
	return "?"
}

// Access is a tensor indexed by affine expressions, one per dimension.
type Access struct {
	Pos    Pos
	Tensor *Tensor
	Index  []Affine
}

func (a *Access) String() string {
	if len(a.Index) == 0 {
		return a.Tensor.Name
	}
	s := make([]string, len(a.Index))
	for i, x := range a.Index {
		s[i] = x.String()
	}
	return a.Tensor.Name + "[" + strings.Join(s, ", ") + "]"
}

// ReduceOp is how a reduced rank is combined.
type ReduceOp int

const (
	Sum ReduceOp = iota
	Max
	Min
)

func (o ReduceOp) String() string { return [...]string{"sum", "max", "min"}[o] }

// Identity is the value an empty reduction yields.
func (o ReduceOp) Identity() float64 {
	switch o {
	case Max:
		return negInf
	case Min:
		return posInf
	}
	return 0
}

// Reduction reduces the listed variables with one operator.
type Reduction struct {
	Op   ReduceOp
	Vars []*Rank
}

// Einsum is one checked statement: Output = reduce(Expr) over the variables
// that appear on the right but not on the left, defined only where every
// Filter holds.
type Einsum struct {
	Pos    Pos
	Output *Access
	// Filters restrict the points of the output that this Einsum defines.
	Filters []Cond
	Expr    Expr
	// Reductions, outermost first. Variables reduced by sum without being
	// named after :: come last (innermost). Empty for a map.
	Reductions []Reduction
	// Vars is the iteration space: the output's variables in order of first
	// appearance on the left, then the reduced variables outermost first.
	// The variable of an enclosing iterate block is not included: it is
	// fixed while the Einsum runs.
	Vars []*Rank
	Loop *Loop // the enclosing iterate block, nil at top level
	// TopK, when set, makes the Einsum a selection: the expression is
	// evaluated at every point, then each point becomes 1 when its value is
	// among the K largest of its fiber along Var (ties go to the lower
	// index; NaN is never selected), else 0.
	TopK *TopK
}

// TopK is a top-k selection along one output variable.
type TopK struct {
	Var *Rank
	K   Poly // a constant or a rank size
}

// Name is the output tensor's name, which is how a report refers to the Einsum.
func (e *Einsum) Name() string { return e.Output.Tensor.Name }

// OutputVars is the part of Vars that indexes the output.
func (e *Einsum) OutputVars() []*Rank {
	n := len(e.Vars)
	for _, r := range e.Reductions {
		n -= len(r.Vars)
	}
	return e.Vars[:n]
}

// ReducedVars is the part of Vars that is reduced, outermost first.
func (e *Einsum) ReducedVars() []*Rank { return e.Vars[len(e.OutputVars()):] }

// Reads lists the tensor accesses of the right-hand side, left to right,
// then those of data-dependent filters.
func (e *Einsum) Reads() []*Access {
	var out []*Access
	visit := func(x Expr) {
		if r, ok := x.(*Read); ok {
			out = append(out, r.Access)
		}
	}
	Walk(e.Expr, visit)
	for _, f := range e.Filters {
		if f.Data != nil {
			Walk(f.Data.X, visit)
			Walk(f.Data.Y, visit)
		}
	}
	return out
}

// Loop is an iterate block: the body runs for Var = 0, 1, ... while Until
// does not hold, and never past Var's size.
type Loop struct {
	Pos   Pos
	Var   *Rank
	Until Cond
	Body  []*Einsum
}
