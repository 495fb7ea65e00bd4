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

// blockRows is how many output rows accumulateVec computes together, and
// blockBytes the width of each row's slice: 4 rows of 256 bytes are 16
// 512-bit accumulators, so each loaded vector of an operand that does not
// depend on the row serves four rows, and each broadcast operand four
// vectors (one row of 8 accumulators needs a fresh load per multiply).
const (
	blockRows  = 4
	blockBytes = 256
)

// accumulateVec is accumulate with the output held in registers across the
// reduced loops: a block of up to blockRows rows of the second innermost
// output variable by w lanes of the innermost. Each output point still
// sees its terms in the reduced loops' order, so values are those of the
// plain loop nest.
func (g *gen) accumulateVec(e *einsum.Einsum, w int64) {
	out := e.OutputVars()
	v := out[len(out)-1]
	lanes := w
	if b := blockBytes / g.elemBytes(); lanes > b && lanes%b == 0 {
		lanes = b
	}
	vt := types.NewVector(uint64(lanes), g.ft)
	if len(out) < 2 {
		g.vecBlock(e, v, nil, nil, 1, vt)
		return
	}
	row := out[len(out)-2]
	g.nest(out[:len(out)-2], func() {
		lo, hi := g.rangeOf(row)
		n := g.b.NewSub(hi, lo)
		mainHi := g.b.NewAdd(lo, g.b.NewMul(g.b.NewSDiv(n, i64(blockRows)), i64(blockRows)))
		g.loop(lo, mainHi, blockRows, func(r0 value.Value) {
			g.vecBlock(e, v, row, r0, blockRows, vt)
		})
		g.loop(mainHi, hi, 1, func(r0 value.Value) {
			g.vecBlock(e, v, row, r0, 1, vt)
		})
		delete(g.vars, row)
	})
}

// vecBlock emits the loop over v in vt-wide steps for rows values of row
// from r0 (none when row is nil), accumulating each in its own vector.
func (g *gen) vecBlock(e *einsum.Einsum, v, row *einsum.Rank, r0 value.Value, rows int, vt *types.VectorType) {
	op := e.Reductions[0].Op
	at := func(i int) {
		if row != nil {
			g.vars[row] = g.b.NewAdd(r0, i64(int64(i)))
		}
	}
	w := int64(vt.Len)
	lo, hi := g.rangeOf(v)
	g.loop(lo, hi, w, func(v0 value.Value) {
		g.vars[v] = v0
		ptrs := make([]value.Value, rows)
		accs := make([]value.Value, rows)
		for i := range rows {
			at(i)
			ptrs[i] = g.b.NewBitCast(g.elemPtr(e.Output), types.NewPointer(vt))
			accs[i] = g.alloca(vt)
			first := g.b.NewLoad(vt, ptrs[i])
			first.Align = ir.Align(elemAlign)
			g.b.NewStore(first, accs[i])
		}
		g.nest(e.ReducedVars(), func() {
			for i := range rows {
				at(i)
				x := g.vexpr(e.Expr, v, vt)
				g.b.NewStore(g.combine(op, g.b.NewLoad(vt, accs[i]), x), accs[i])
			}
		})
		for i := range rows {
			st := g.b.NewStore(g.b.NewLoad(vt, accs[i]), ptrs[i])
			st.Align = ir.Align(elemAlign) // only the element's alignment is known
		}
	})
	delete(g.vars, v)
}

func (g *gen) elemBytes() int64 {
	if g.ft == types.Double {
		return 8
	}
	return 4
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
