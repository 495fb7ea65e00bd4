package lower

import (
	"fmt"
	"strings"
)

// nestText is an Einsum's loop nest by level, outermost first: the loops
// above the global buffer (one tile operation per iteration of the
// outer ones; "inner" marks those inside a tile operation), the global
// buffer's temporal loops and the spatial fan-out.
func (lw *lowering) nestText(p *eplan) string {
	levels := []string{lw.a.Memories[0].Name, globalBuffer(lw.a).Name, "spatial"}
	parts := make([][]string, len(levels))
	for _, l := range p.nest.loops {
		i := l.level
		if l.spatial {
			i = 2
		}
		tag := ""
		if l.inner {
			tag = " (inner)"
		}
		parts[i] = append(parts[i], fmt.Sprintf("%s=%d%s", l.rank, l.bound, tag))
	}
	var out []string
	for i, lv := range levels {
		if len(parts[i]) > 0 {
			out = append(out, lv+"["+strings.Join(parts[i], " ")+"]")
		}
	}
	return strings.Join(out, " ")
}

// FormatPlan prints a lowered design point canonically: the sizes and
// derived values, each Einsum's unit, binding, operations per point and
// loop nest per level, then the schedule (sim.Schedule.Format): units,
// loops, tile operations and transfers with their dependencies, buffer
// holds and actions. The same inputs always print the same text.
func FormatPlan(p *Plan) string {
	var b strings.Builder
	var sizes []string
	for _, k := range sortedKeys(p.Sizes) {
		sizes = append(sizes, fmt.Sprintf("%s=%d", k, p.Sizes[k]))
	}
	fmt.Fprintf(&b, "sizes %s\n", strings.Join(sizes, " "))
	for _, k := range sortedKeys(p.Derived) {
		fmt.Fprintf(&b, "derived %s=%d\n", k, p.Derived[k])
	}
	fmt.Fprintf(&b, "groups %d\n", p.Groups)
	for _, e := range p.Einsums {
		var ops []string
		for _, k := range sortedKeys(e.Ops) {
			ops = append(ops, fmt.Sprintf("%s×%d", k, e.Ops[k]))
		}
		fmt.Fprintf(&b, "einsum %s (%s) on %s by %s: %s per point; %s", e.Name, e.Class, e.Unit, e.BoundBy, strings.Join(ops, " "), e.Nest)
		if e.Masked || e.TilesSkipped > 0 {
			fmt.Fprintf(&b, "; works in %d of %d tiles, %.4g of its points defined", e.Tiles-e.TilesSkipped, e.Tiles, e.Useful)
		}
		b.WriteString("\n")
	}
	b.WriteString(p.Schedule.Format())
	return b.String()
}
