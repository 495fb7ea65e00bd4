package lower

import (
	"fmt"
	"strings"

	"github.com/fusemax/fusemax/einsum"
)

// The operation classes a mapping may bind by (`classes:`), so that one
// mapping serves every cascade of a family.
const (
	ClassMatmul    = "matmul"    // a sum of products of two tensors (QK, AV, a GEMM)
	ClassReduction = "reduction" // any other reduction (a row max, a row sum)
	ClassMap       = "map"       // an element-wise map
	ClassState     = "state"     // a per-row state update of an iterate block (RM[m1+1] = ...)
)

// Classes lists the operation classes, in the order a report prints them.
func Classes() []string { return []string{ClassMatmul, ClassReduction, ClassMap, ClassState} }

// ClassOf is the operation class of an Einsum.
func ClassOf(e *einsum.Einsum) string {
	if e.Loop != nil {
		for _, ix := range e.Output.Index {
			if !ix.Coef(e.Loop.Var).IsZero() && !ix.Const.IsZero() {
				return ClassState
			}
		}
	}
	if len(e.Reductions) == 0 {
		return ClassMap
	}
	if b, ok := e.Expr.(*einsum.Binary); ok && b.Op == einsum.Mul && e.Reductions[len(e.Reductions)-1].Op == einsum.Sum {
		_, rx := b.X.(*einsum.Read)
		_, ry := b.Y.(*einsum.Read)
		if rx && ry {
			return ClassMatmul
		}
	}
	return ClassReduction
}

// binds reports whether the mapping binds by class or default, in which
// case entries for Einsums or tensors a cascade lacks are warnings.
func (m *Mapping) bindsGenerally() bool { return m.Default != "" || len(m.Classes) > 0 }

// binding is how Einsum e is bound: its own entry, else its class's unit,
// else the mapping's default unit; where says which, for the report.
func (m *Mapping) binding(e *einsum.Einsum) (em *EinsumMap, where string, ok bool) {
	if em, ok := m.Einsums[e.Name()]; ok {
		return em, "einsums." + e.Name(), true
	}
	cl := ClassOf(e)
	if u, ok := m.Classes[cl]; ok {
		return &EinsumMap{Unit: u, node: m.classNodes[cl]}, "classes." + cl, true
	}
	if m.Default != "" {
		return &EinsumMap{Unit: m.Default, node: m.defaultNode}, "default", true
	}
	return nil, "", false
}

// unbound is the error for an Einsum no entry, class or default binds.
func (lw *lowering) unbound(e *einsum.Einsum) error {
	return lw.m.errorAt("einsums", true, "mapping %s binds no unit for Einsum %s (%s, class %s); add e.g. `%s: %s` under einsums, `%s: %s` under classes, or `default: %s`",
		lw.m.Name, e.Name(), e.Pos, ClassOf(e), e.Name(), lw.a.Arrays[0].Name, ClassOf(e), lw.a.Arrays[0].Name, lw.a.Arrays[0].Name)
}

// lacking reports a mapping entry that names something the cascade does
// not have: an error for a mapping that names every Einsum, a warning for
// one that binds by class or default (it serves several cascades).
func (lw *lowering) lacking(where, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if lw.m.bindsGenerally() {
		lw.warn("%s: %s; ignored", where, msg)
		return nil
	}
	return fmt.Errorf("%s: %s", where, msg)
}

func joinNames(n []string) string { return strings.Join(n, ", ") }
