package lower

import (
	"github.com/fusemax/fusemax/einsum"
)

// opName is the PE operation an operator node asks for: arithmetic
// operators by their usual names, functions by the name the language gives
// them, so that a function the language gains later (tanh, pow, ...) needs
// only an entry in a PE's composition table, not a change here.
func opName(sym string, unary bool) string {
	switch sym {
	case "+":
		return "add"
	case "-":
		if unary {
			return "neg"
		}
		return "sub"
	case "*":
		return "mul"
	case "/":
		return "div"
	}
	return sym
}

// isConstant reports whether x reads no tensor and no index value: a
// constant sub-expression (`sqrt(E)`, `2 * 0.5`) is folded once, not
// computed per point. An index value (ALiBi's `p - m`) changes from point
// to point, so it is not constant.
func isConstant(x einsum.Expr) bool {
	konst := true
	einsum.Walk(x, func(y einsum.Expr) {
		switch y.(type) {
		case *einsum.Read, *einsum.IndexValue:
			konst = false
		}
	})
	return konst
}

// pointOps is what one point of the iteration space computes, before the
// PE builds it: one operation per operator node over data, the reduction's
// combine, and a multiply feeding a sum fused into a mac. Constant
// sub-expressions cost nothing, and a division by a constant is a
// multiplication by its reciprocal. An operator over index values (the
// integer arithmetic of `p - m1*M0 - m0`) is computed per point too and
// is charged as the PE's operation of that name (add, sub, mul): the PE
// tables describe one datapath, with no separate integer unit, so index
// arithmetic costs what the same operation on data costs.
func pointOps(e *einsum.Einsum) map[string]int64 {
	ops := map[string]int64{}
	var visit func(x einsum.Expr)
	visit = func(x einsum.Expr) {
		if isConstant(x) {
			return
		}
		switch x := x.(type) {
		case *einsum.Binary:
			name := opName(x.Op.String(), false)
			if name == "div" && isConstant(x.Y) {
				name = "mul"
			}
			ops[name]++
			visit(x.X)
			visit(x.Y)
		case *einsum.Unary:
			ops[opName(x.Op.String(), true)]++
			visit(x.X)
		}
	}
	visit(e.Expr)
	if len(e.Reductions) > 0 {
		switch e.Reductions[len(e.Reductions)-1].Op {
		case einsum.Sum:
			if b, ok := e.Expr.(*einsum.Binary); ok && b.Op == einsum.Mul && !isConstant(b.X) && !isConstant(b.Y) {
				ops["mul"]--
				ops["mac"]++
			} else {
				ops["add"]++
			}
		case einsum.Max:
			ops["max"]++
		case einsum.Min:
			ops["min"]++
		}
	}
	for k, v := range ops {
		if v == 0 {
			delete(ops, k)
		}
	}
	return ops
}
