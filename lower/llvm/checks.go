package llvm

import (
	"fmt"
	"strings"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/constant"
	"github.com/llir/llvm/ir/enum"
	"github.com/llir/llvm/ir/types"
	"github.com/llir/llvm/ir/value"

	"github.com/fusemax/fusemax/einsum"
)

// The run-time checks the interpreter makes, made the same way by the
// compiled code: a read outside its tensor's extent at a point the filters
// admit, and an output point no statement defines (unless the output is
// declared partial), end the run with the interpreter's message on stderr
// and exit status 1. A read that is in range at every point of its
// variables at this shape is not checked.

// covered reports whether some definition of output t writes every point:
// unfiltered, and indexed in each dimension by the dimension's own rank.
func covered(t *einsum.Tensor) bool {
	for _, e := range t.Defs {
		if len(e.Filters) > 0 {
			continue
		}
		all := true
		for d, a := range e.Output.Index {
			r, ok := a.IsVar()
			all = all && ok && r == t.Dims[d].Rank
		}
		if all {
			return true
		}
	}
	return false
}

// needsCheck reports whether a read may leave its tensor at this shape.
func (g *gen) needsCheck(a *einsum.Access) bool {
	for d, x := range a.Index {
		lo, hi := x.Range()
		if g.p.eval(lo) < 0 || g.p.eval(hi) >= g.p.eval(a.Tensor.Dims[d].Extent) {
			return true
		}
	}
	return false
}

// checkRead emits the extent check of a read that needs one.
func (g *gen) checkRead(a *einsum.Access) {
	if !g.needsCheck(a) {
		return
	}
	var bad value.Value = constant.False
	var idx []value.Value
	for d, x := range a.Index {
		v := g.affine(x)
		idx = append(idx, v)
		out := g.b.NewOr(g.b.NewICmp(enum.IPredSLT, v, i64(0)), g.b.NewICmp(enum.IPredSGE, v, i64(g.p.eval(a.Tensor.Dims[d].Extent))))
		bad = g.b.NewOr(bad, out)
	}
	shape := make([]string, len(a.Index))
	for d := range a.Index {
		shape[d] = fmt.Sprint(g.p.eval(a.Tensor.Dims[d].Extent))
	}
	msg := fmt.Sprintf("%s: read %s at %s is outside %s's extent [%s]", a.Pos, a, pointFormat(a.Tensor.Name, len(idx)), a.Tensor.Name, strings.Join(shape, " "))
	g.guard(bad, func() { g.fail(msg, idx) })
}

// checkOutputs emits, at the end of the kernel, the check that every point
// of each non-partial output with a mask was defined.
func (g *gen) checkOutputs() {
	for _, t := range g.p.c.Outputs {
		m := g.mask[t]
		if m == nil || t.Partial {
			continue
		}
		s := g.p.store[t]
		g.loop(i64(0), i64(s.elems), 1, func(i value.Value) {
			unset := g.b.NewICmp(enum.IPredEQ, g.b.NewLoad(types.I8, g.gep(m, i)), constant.NewInt(types.I8, 0))
			g.guard(unset, func() {
				var idx []value.Value
				for d := range s.extents {
					q := g.b.NewSDiv(i, i64(s.strides[d]))
					idx = append(idx, g.b.NewSRem(q, i64(s.extents[d])))
				}
				g.fail(fmt.Sprintf("%s: output %s is not defined at %s: no statement writes that point (declare it `output partial %s` if points may stay undefined)",
					t.Pos, t.Name, pointFormat(t.Name, len(idx)), t.Name), idx)
			})
		})
	}
}

func pointFormat(name string, n int) string {
	return name + "[" + strings.TrimSuffix(strings.Repeat("%lld, ", n), ", ") + "]"
}

// fail prints msg (a printf format taking the i64 values) to stderr and
// exits with status 1.
func (g *gen) fail(msg string, args []value.Value) {
	text := strings.ReplaceAll(msg, "%", "%%")
	text = strings.ReplaceAll(text, "%%lld", "%lld") + "\n\x00"
	arr := constant.NewCharArrayFromString(text)
	gl := g.m.NewGlobalDef(fmt.Sprintf("msg.%d", len(g.m.Globals)), arr)
	gl.Linkage = enum.LinkagePrivate
	gl.Immutable = true
	ptr := constant.NewGetElementPtr(arr.Typ, gl, i64(0), i64(0))
	call := append([]value.Value{constant.NewInt(types.I32, 2), ptr}, args...)
	g.b.NewCall(g.cfunc("dprintf", types.I32, true, types.I32, types.I8Ptr), call...)
	g.b.NewCall(g.cfunc("exit", types.Void, false, types.I32), constant.NewInt(types.I32, 1))
}

// cfunc declares a C library function once.
func (g *gen) cfunc(name string, ret types.Type, variadic bool, params ...types.Type) *ir.Func {
	if f, ok := g.intr[name]; ok {
		return f
	}
	var ps []*ir.Param
	for _, p := range params {
		ps = append(ps, ir.NewParam("", p))
	}
	f := g.m.NewFunc(name, ret, ps...)
	f.Sig.Variadic = variadic
	g.intr[name] = f
	return f
}
