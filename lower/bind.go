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

// The bind pass: the sizes every later pass evaluates (the user's shape,
// the mapping's machine-fixed sizes, the cascade's derived ranks), then
// each Einsum that does work to a unit of the machine and what one of its
// points costs on that unit's PE. A copy (BK = K[...]) is a view of its
// source and a seed (no reads) initialises state: neither is an operation.

// bind runs the pass.
func (lw *lowering) bind() error {
	if err := lw.bindSizes(); err != nil {
		return err
	}
	if err := lw.bindEinsums(); err != nil {
		return err
	}
	if err := lw.checkEinsumEntries(); err != nil {
		return err
	}
	lw.checkDrains()
	if err := lw.bindLevels(); err != nil {
		return err
	}
	if err := lw.bindPlacementLists(); err != nil {
		return err
	}
	if err := lw.checkTensorEntries(); err != nil {
		return err
	}
	for _, p := range lw.ops {
		if err := lw.bindUnit(p); err != nil {
			return err
		}
	}
	return nil
}

func (lw *lowering) bindSizes() error {
	shape := map[string]int64{}
	for k, v := range lw.shape {
		shape[k] = v
	}
	lw.sizes = shape
	for _, k := range sortedKeys(lw.m.Sizes) {
		if _, ok := shape[k]; ok {
			continue // the user's shape wins over the machine's default
		}
		v, err := lw.eval(lw.m.Sizes[k], "sizes."+k)
		if err != nil {
			return err
		}
		n, err := asCount(v, lw.m.Sizes[k])
		if err != nil {
			return lw.m.errorAt("sizes."+k, false, "sizes.%s: %v", k, err)
		}
		shape[k] = n
	}
	sizes, unused, err := lw.c.Bind(shape)
	if err != nil {
		return lw.bindError(err)
	}
	if lw.opt.NoteUnusedShape {
		lw.noteUnusedShape(unused)
	}
	for k, v := range sizes {
		lw.sizes[k] = v
	}
	for _, r := range lw.m.Instances {
		if lw.c.Rank(r) != nil {
			return lw.m.errorAt("instances."+r, false, "instances: %s is a rank of cascade %s, not an independent copy (drop it from instances; the cascade iterates it)", r, lw.c.Name)
		}
	}
	return nil
}

// noteUnusedShape warns of shape names that are neither a rank of the
// cascade nor an instance rank of the mapping (eval notes them the same
// way), naming the rank a case slip probably meant: m0=128 with a mapping
// that fixes M0=256 would otherwise run at 256 without a word.
func (lw *lowering) noteUnusedShape(unused []string) {
	for _, n := range unused {
		if _, given := lw.shape[n]; !given || contains(lw.m.Instances, n) {
			continue // a size the mapping fixes for a rank this cascade lacks
		}
		known := append(sortedKeys(lw.m.Sizes), lw.m.Instances...)
		for _, r := range lw.c.Ranks {
			known = append(known, r.Name)
		}
		hint := ""
		for _, k := range known {
			if strings.EqualFold(k, n) {
				hint = fmt.Sprintf(" (rank names are case-sensitive: did you mean %s?)", k)
			}
		}
		lw.warn("--shape %s=%d: cascade %s has no rank %s and the mapping no instance rank of that name; ignored%s", n, lw.shape[n], lw.c.Name, n, hint)
	}
}

// lookup resolves a name in a size expression.
func (lw *lowering) lookup(name string) (float64, bool) {
	if v, ok := lw.derived[name]; ok {
		return float64(v), true
	}
	if v, ok := lw.sizes[name]; ok {
		return float64(v), true
	}
	if v, ok := lw.shape[name]; ok {
		return float64(v), true
	}
	if i := strings.Index(name, "."); i > 0 {
		obj, field := name[:i], name[i+1:]
		if ar := lw.a.Array(obj); ar != nil {
			switch {
			case field == "rows" && len(ar.Dims) == 2:
				return float64(ar.Dims[0]), true
			case field == "cols" && len(ar.Dims) == 2:
				return float64(ar.Dims[1]), true
			case field == "length" && len(ar.Dims) == 1:
				return float64(ar.Dims[0]), true
			case field == "pes":
				return float64(ar.PEs()), true
			}
		}
		if mem := lw.a.Memory(obj); mem != nil {
			switch field {
			case "capacity":
				return mem.CapacityBytes, true
			case "width":
				return mem.WidthBytes, true
			}
		}
	}
	return 0, false
}

func (lw *lowering) eval(src, where string) (float64, error) {
	v, err := evalSize(src, lw.lookup)
	if err != nil {
		return 0, lw.m.exprError(where, lw.knownNames(err))
	}
	return v, nil
}

// bindEinsums lists the Einsums that do work, each with its mapping entry
// (its own, its class's or the default), in cascade order; copies become
// aliases of their source.
func (lw *lowering) bindEinsums() error {
	lw.alias = map[string]*einsum.Tensor{}
	lw.opOf = map[*einsum.Einsum]*eplan{}
	for _, e := range lw.c.Einsums {
		reads := e.Reads()
		if len(reads) == 0 {
			continue
		}
		if r, ok := e.Expr.(*einsum.Read); ok && len(e.Reductions) == 0 {
			src := r.Access.Tensor
			if s, ok := lw.alias[src.Name]; ok {
				src = s
			}
			lw.alias[e.Name()] = src
			continue
		}
		em, where, ok := lw.m.binding(e)
		if !ok {
			return lw.unbound(e)
		}
		p := &eplan{e: e, m: em, boundBy: where, inLoop: e.Loop != nil, stage: lw.m.Stages[e.Name()]}
		lw.ops = append(lw.ops, p)
		lw.opOf[e] = p
	}
	return nil
}

// checkEinsumEntries reports entries (einsums, stages, phases) for Einsums
// that do no work in the cascade.
func (lw *lowering) checkEinsumEntries() error {
	named := map[string]bool{}
	for _, p := range lw.ops {
		named[p.e.Name()] = true
	}
	for _, k := range sortedKeys(lw.m.Einsums) {
		if !named[k] {
			if err := lw.lacking(lw.m.Pos(k)+": einsums."+k, "cascade %s has no Einsum %s that does work", lw.c.Name, k); err != nil {
				return err
			}
		}
	}
	for _, kv := range []struct {
		what  string
		keyed map[string]int
	}{{"stages", lw.m.Stages}, {"phases", lw.m.Phases}} {
		for _, k := range sortedKeys(kv.keyed) {
			if !named[k] {
				if err := lw.lacking(lw.m.spots.Pos(kv.what+"."+k)+": "+kv.what+"."+k, "cascade %s has no Einsum %s that does work", lw.c.Name, k); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// bindPlacementLists reads the mapping's offchip and onchip lists (by
// default the cascade's inputs and outputs live off chip).
func (lw *lowering) bindPlacementLists() error {
	lw.offchip, lw.onchip = map[string]bool{}, map[string]bool{}
	if lw.m.Offchip == nil {
		for _, t := range append(append([]*einsum.Tensor{}, lw.c.Inputs...), lw.c.Outputs...) {
			lw.offchip[t.Name] = true
		}
	}
	for _, list := range []struct {
		names []string
		into  map[string]bool
		what  string
	}{{lw.m.Offchip, lw.offchip, "offchip"}, {lw.m.Onchip, lw.onchip, "onchip"}} {
		for _, n := range list.names {
			if lw.c.Tensor(n) == nil {
				if err := lw.lacking(lw.m.spots.Pos(list.what+"."+n)+": "+list.what, "cascade %s has no tensor %s", lw.c.Name, n); err != nil {
					return err
				}
				continue
			}
			list.into[n] = true
		}
	}
	return nil
}

// checkTensorEntries reports per-Einsum keep, staged and registers lists
// that name tensors the cascade lacks.
func (lw *lowering) checkTensorEntries() error {
	for _, p := range lw.ops {
		for _, list := range [][]string{p.m.Keep, p.m.Staged, p.m.Registers} {
			for _, n := range list {
				if lw.c.Tensor(n) == nil {
					if err := lw.lacking(lw.m.PosOf(p.m)+": einsums."+p.e.Name(), "cascade %s has no tensor %s", lw.c.Name, n); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// bindUnit finds the array an Einsum is bound to and what one of its
// points costs there: the language's operations (pointOps), each expanded
// into the PE's primitives.
func (lw *lowering) bindUnit(p *eplan) error {
	e, m := p.e, lw.m
	ar := lw.a.Array(p.m.Unit)
	if ar == nil {
		var names []string
		for _, a := range lw.a.Arrays {
			names = append(names, a.Name)
		}
		return fmt.Errorf("%s: %s is bound to unit %q, which %s does not have (it has %s)", m.PosOf(p.m), e.Name(), p.m.Unit, lw.a.Name, strings.Join(names, ", "))
	}
	p.array = ar
	for i, a := range lw.a.Arrays {
		if a == ar {
			p.unit = i
		}
	}
	p.abstract = pointOps(e)
	p.prims = map[string]int64{}
	for _, op := range sortedKeys(p.abstract) {
		ex, ok := ar.PE.Expand(op)
		if !ok {
			return fmt.Errorf("%s: %s needs %s, which a PE of %s can neither run nor build from its operations (%s)",
				m.PosOf(p.m), e.Name(), op, ar.Name, strings.Join(ar.PE.Capabilities(), ", "))
		}
		for k, v := range ex {
			p.prims[k] += v * p.abstract[op]
		}
	}
	return nil
}
