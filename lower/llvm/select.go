package llvm

import (
	"github.com/llir/llvm/ir/constant"
	"github.com/llir/llvm/ir/enum"
	"github.com/llir/llvm/ir/types"
	"github.com/llir/llvm/ir/value"

	"github.com/fusemax/fusemax/einsum"
)

// dataFilters ands the data-dependent filters of e onto the affine ones
// (affine: nil when none). They are evaluated only where the affine
// filters hold, so that a point they exclude is never read, as in the
// interpreter; an undefined read or a NaN fails the comparison.
func (g *gen) dataFilters(e *einsum.Einsum, affine value.Value) value.Value {
	var data []einsum.Cond
	for _, f := range e.Filters {
		if f.Data != nil {
			data = append(data, f)
		}
	}
	if len(data) == 0 {
		return affine
	}
	ok := g.alloca(types.I1)
	g.b.NewStore(constant.False, ok)
	g.guard(affine, func() {
		var all value.Value = constant.True
		for _, f := range data {
			x, dx := g.expr(f.Data.X)
			y, dy := g.expr(f.Data.Y)
			all = g.and(g.and(all, g.b.NewFCmp(dataPreds[f.Op], x, y)), g.and(dx, dy))
		}
		g.b.NewStore(all, ok)
	})
	return g.b.NewLoad(types.I1, ok)
}

// Ordered predicates: a comparison with NaN is false (einsum.CmpOp.HoldsValue).
var dataPreds = [...]enum.FPred{enum.FPredOEQ, enum.FPredONE, enum.FPredOLT, enum.FPredOLE, enum.FPredOGT, enum.FPredOGE}

// topK emits a top-k selection: the scores go to a scratch copy of the
// output, then every defined point of the output becomes 1 when fewer than
// K defined points of its fiber along the topk variable rank above it (a
// larger score, or an equal one at a lower index; NaN never), else 0, as
// the interpreter computes it.
func (g *gen) topK(e *einsum.Einsum) {
	t := e.Output.Tensor
	s := g.p.store[t]
	out := g.base[t]
	scratch := g.scratch("k."+sanitize(t.Name), s.elems)
	g.base[t] = scratch
	g.nest(e.OutputVars(), func() {
		v, def := g.expr(e.Expr)
		g.guard(def, func() { g.store(e.Output, v) })
	})
	g.base[t] = out
	sel := e.TopK.Var
	var others []*einsum.Rank
	for _, r := range e.OutputVars() {
		if r != sel {
			others = append(others, r)
		}
	}
	k := i64(g.p.eval(e.TopK.K))
	n := g.p.size(sel)
	defined := func(off value.Value) value.Value {
		if m := g.mask[t]; m != nil {
			return g.b.NewICmp(enum.IPredNE, g.b.NewLoad(types.I8, g.gep(m, off)), constant.NewInt(types.I8, 0))
		}
		return nil
	}
	g.nest(others, func() {
		g.loop(i64(0), i64(n), 1, func(i value.Value) {
			g.vars[sel] = i
			oi := g.offset(e.Output)
			g.guard(defined(oi), func() {
				vi := g.b.NewLoad(g.ft, g.gep(scratch, oi))
				above := g.alloca(types.I64)
				g.b.NewStore(i64(0), above)
				g.loop(i64(0), i64(n), 1, func(j value.Value) {
					g.vars[sel] = j
					oj := g.offset(e.Output)
					vj := g.b.NewLoad(g.ft, g.gep(scratch, oj))
					tie := g.b.NewAnd(g.b.NewFCmp(enum.FPredOEQ, vj, vi), g.b.NewICmp(enum.IPredSLT, j, i))
					rank := value.Value(g.b.NewOr(g.b.NewFCmp(enum.FPredOGT, vj, vi), tie))
					rank = g.and(rank, defined(oj))
					g.b.NewStore(g.b.NewAdd(g.b.NewLoad(types.I64, above), g.b.NewZExt(rank, types.I64)), above)
				})
				chosen := g.b.NewAnd(g.b.NewFCmp(enum.FPredORD, vi, vi), g.b.NewICmp(enum.IPredSLT, g.b.NewLoad(types.I64, above), k))
				g.b.NewStore(g.b.NewSelect(chosen, g.fconst(1), g.fconst(0)), g.gep(out, oi))
			})
		})
		delete(g.vars, sel)
	})
}

// scratch is an internal zeroed global of n elements of the compute type.
func (g *gen) scratch(name string, n int64) value.Value {
	arr := types.NewArray(uint64(n), g.ft)
	gl := g.m.NewGlobalDef(name, constant.NewZeroInitializer(arr))
	gl.Linkage = enum.LinkageInternal
	gl.Align = 64
	return constant.NewGetElementPtr(arr, gl, i64(0), i64(0))
}
