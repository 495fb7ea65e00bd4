package llvm

import (
	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/constant"
	"github.com/llir/llvm/ir/types"
	"github.com/llir/llvm/ir/value"

	"github.com/fusemax/fusemax/einsum"
)

// The loop vectoriser widens the innermost loop of a reduction in memory,
// but then loads and stores the output slice once per reduced point, which
// bounds QK = Q·K and SLNV = SLN·V by stores. vectorWidth and accumulateVec
// instead keep a slice of w consecutive output points in vector registers
// for the whole reduction, which is what makes the 1-pass cascade
// compute-bound.

// vectorWidths are tried widest first: 128 floats are eight 512-bit
// registers, enough independent additions to hide their latency.
var vectorWidths = []int64{128, 64, 32, 16}

// vectorWidth returns the number of lanes for the register-accumulated form
// of e, or 0 when e does not qualify: its innermost output variable must be
// contiguous in the output, every read must be contiguous in it or not
// depend on it, the expression must use only arithmetic, and the variable's
// trip count must be a multiple of the width.
func (g *gen) vectorWidth(e *einsum.Einsum) int64 {
	out := e.OutputVars()
	if len(out) == 0 || len(e.Filters) > 0 || g.opts.CountAccesses || g.p.scalar[e] {
		return 0
	}
	v := out[len(out)-1]
	if g.flatCoef(e.Output, v) != 1 {
		return 0
	}
	ok := true
	einsum.Walk(e.Expr, func(x einsum.Expr) {
		switch x := x.(type) {
		case *einsum.Read:
			s := g.p.store[x.Access.Tensor]
			if s.tracked {
				ok = false
			}
			if c := g.flatCoef(x.Access, v); c != 0 && c != 1 || g.needsCheck(x.Access) {
				ok = false
			}
		case *einsum.Unary:
			ok = ok && x.Op == einsum.Neg
		case *einsum.Binary:
			ok = ok && x.Op != einsum.Pow // a call
		case *einsum.Const, *einsum.SizeValue:
		default:
			ok = false
		}
	})
	if !ok {
		return 0
	}
	trip := g.p.size(v)
	for _, t := range g.p.tiles {
		if t.rank == v && e.Loop == t.loop {
			if trip%t.size != 0 {
				return 0
			}
			trip = t.size
		}
	}
	for _, w := range vectorWidths {
		if trip%w == 0 {
			return w
		}
	}
	return 0
}

const elemAlign = 4

// flatCoef is how far an access moves in its storage when v grows by one;
// -1 when v indexes a ring dimension, whose wrap-around is not linear.
func (g *gen) flatCoef(a *einsum.Access, v *einsum.Rank) int64 {
	s := g.p.store[a.Tensor]
	var c int64
	for d, x := range a.Index {
		k := g.p.eval(x.Coef(v))
		if k == 0 {
			continue
		}
		if s.ring[d] != 0 {
			return -1
		}
		c += k * s.strides[d]
	}
	return c
}

// accumulateVec is accumulate with the output slice held in a w-lane vector
// across the reduced loops.
func (g *gen) accumulateVec(e *einsum.Einsum, w int64) {
	out := e.OutputVars()
	op := e.Reductions[0].Op
	v := out[len(out)-1]
	vt := types.NewVector(uint64(w), g.ft)
	g.nest(out[:len(out)-1], func() {
		lo, hi := g.rangeOf(v)
		g.loop(lo, hi, w, func(v0 value.Value) {
			g.vars[v] = v0
			ptr := g.b.NewBitCast(g.elemPtr(e.Output), types.NewPointer(vt))
			acc := g.alloca(vt)
			first := g.b.NewLoad(vt, ptr)
			first.Align = ir.Align(elemAlign)
			g.b.NewStore(first, acc)
			g.nest(e.ReducedVars(), func() {
				x := g.vexpr(e.Expr, v, vt)
				g.b.NewStore(g.combine(op, g.b.NewLoad(vt, acc), x), acc)
			})
			st := g.b.NewStore(g.b.NewLoad(vt, acc), ptr)
			st.Align = ir.Align(elemAlign) // only the element's alignment is known
		})
		delete(g.vars, v)
	})
}

func (g *gen) splat(x value.Value, vt *types.VectorType) value.Value {
	if c, ok := x.(constant.Constant); ok {
		elems := make([]constant.Constant, vt.Len)
		for i := range elems {
			elems[i] = c
		}
		return constant.NewVector(vt, elems...)
	}
	ins := g.b.NewInsertElement(constant.NewUndef(vt), x, constant.NewInt(types.I32, 0))
	return g.b.NewShuffleVector(ins, constant.NewUndef(vt), constant.NewZeroInitializer(types.NewVector(vt.Len, types.I32)))
}

// vexpr evaluates x for the lanes v = vars[v] … vars[v]+w-1.
func (g *gen) vexpr(x einsum.Expr, v *einsum.Rank, vt *types.VectorType) value.Value {
	switch x := x.(type) {
	case *einsum.Read:
		p := g.elemPtr(x.Access)
		if g.flatCoef(x.Access, v) == 0 {
			return g.splat(g.b.NewLoad(g.ft, p), vt)
		}
		ld := g.b.NewLoad(vt, g.b.NewBitCast(p, types.NewPointer(vt)))
		ld.Align = ir.Align(elemAlign)
		return ld
	case *einsum.Unary: // Neg only
		return g.b.NewFNeg(g.vexpr(x.X, v, vt))
	case *einsum.Binary:
		return g.binary(x.Op, g.vexpr(x.X, v, vt), g.vexpr(x.Y, v, vt))
	}
	s, _ := g.expr(x)
	return g.splat(s, vt)
}
