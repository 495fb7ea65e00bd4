package lower

import (
	"fmt"
	"strings"
)

// nestText is an Einsum's loop nest by level, outermost first: the loops
// above the global buffer (one tile operation per iteration of the
// outer ones; "inner" marks those inside a tile operation), at DRAM and
// at each level between it and the global buffer, the global buffer's
// temporal loops and the spatial fan-out.
func (lw *lowering) nestText(p *eplan) string {
	levels := append(lw.levelNames()[:lw.rf()], "spatial")
	parts := make([][]string, len(levels))
	for _, l := range p.nest.loops {
		i := l.level
		if l.spatial {
			i = lw.rf()
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

// Passes lists the lowering's passes in the order they run; FormatPass
// prints each one's result.
func Passes() []string { return []string{"bind", "tile", "place", "count", "schedule"} }

// FormatPass prints what one pass of the lowering decided, canonically
// (the same plan always prints the same text): bind (sizes, views, each
// Einsum's unit, binding entry and operations per point), tile (derived
// values, groups, each Einsum's nest per level), place (the levels that
// keep each reference, global-buffer footprints and state), count
// (Timeloop's reads, updates and fills per level) or schedule (FormatPlan).
func FormatPass(p *Plan, pass string) (string, error) {
	if p.lw == nil {
		return "", fmt.Errorf("the plan keeps no pass results")
	}
	var b strings.Builder
	switch pass {
	case "bind":
		p.lw.printBind(&b)
	case "tile":
		p.lw.printTile(&b)
	case "place":
		p.lw.printPlace(&b, p)
	case "count":
		p.lw.printCount(&b)
	case "schedule":
		return FormatPlan(p), nil
	default:
		return "", fmt.Errorf("unknown pass %q (known: %s)", pass, strings.Join(Passes(), ", "))
	}
	return b.String(), nil
}

// levelNames names the nest's storage levels, outermost first.
func (lw *lowering) levelNames() []string {
	var names []string
	for _, m := range lw.a.Memories {
		names = append(names, m.Name)
	}
	return append(names, "RF")
}

func opsText(ops map[string]int64) string {
	var out []string
	for _, k := range sortedKeys(ops) {
		out = append(out, fmt.Sprintf("%s×%d", k, ops[k]))
	}
	return strings.Join(out, " ")
}

func (lw *lowering) printBind(b *strings.Builder) {
	var sizes []string
	for _, k := range sortedKeys(lw.sizes) {
		sizes = append(sizes, fmt.Sprintf("%s=%d", k, lw.sizes[k]))
	}
	fmt.Fprintf(b, "sizes %s\n", strings.Join(sizes, " "))
	for _, k := range sortedKeys(lw.alias) {
		fmt.Fprintf(b, "view %s of %s\n", k, lw.alias[k].Name)
	}
	for _, p := range lw.ops {
		fmt.Fprintf(b, "einsum %s (%s) on %s by %s: %s per point", p.e.Name(), ClassOf(p.e), p.array.Name, p.boundBy, opsText(p.abstract))
		if prims := opsText(p.prims); prims != opsText(p.abstract) {
			fmt.Fprintf(b, ", built as %s", prims)
		}
		b.WriteString("\n")
	}
}

func (lw *lowering) printTile(b *strings.Builder) {
	for _, k := range sortedKeys(lw.derived) {
		fmt.Fprintf(b, "derived %s=%d\n", k, lw.derived[k])
	}
	for _, r := range lw.m.TileOrder {
		fmt.Fprintf(b, "tile %s=%d of %d\n", r, lw.tile[r], lw.sizes[r])
	}
	var groups []string
	for _, g := range lw.groups {
		groups = append(groups, fmt.Sprintf("%s=%d", g.rank, g.bound))
	}
	fmt.Fprintf(b, "groups [%s]\n", strings.Join(groups, " "))
	for _, p := range lw.ops {
		fmt.Fprintf(b, "einsum %s: %d tile operations; %s\n", p.e.Name(), p.nInst, lw.nestText(p))
	}
}

func (lw *lowering) printPlace(b *strings.Builder, p *Plan) {
	names := lw.levelNames()
	for _, o := range lw.ops {
		fmt.Fprintf(b, "einsum %s\n", o.e.Name())
		for _, x := range o.acc {
			var at []string
			for _, k := range x.keepers {
				at = append(at, names[k])
			}
			what := "reads"
			if x.output {
				what = "writes"
			}
			fmt.Fprintf(b, "  %s %s at %s", what, x.name, strings.Join(at, " "))
			for _, k := range x.keepers {
				if f, ok := x.footAt[k]; ok {
					fmt.Fprintf(b, "; %g words in %s", f, names[k])
				}
			}
			if x.l3 {
				fmt.Fprintf(b, "; %g words in %s", x.foot, names[p.lw.gb()])
			}
			if x.spill && lw.spill > 0 {
				fmt.Fprintf(b, "; spills a share %.4g", lw.spill)
			}
			b.WriteString("\n")
		}
	}
	for _, k := range sortedKeys(p.Need) {
		fmt.Fprintf(b, "state %s %.0f B of %.0f\n", k, p.Need[k], lw.a.Memory(k).CapacityBytes)
	}
}

func (lw *lowering) printCount(b *strings.Builder) {
	names := lw.levelNames()
	for _, o := range lw.ops {
		fmt.Fprintf(b, "einsum %s: %.12g points\n", o.e.Name(), o.nest.computes())
		for _, x := range o.acc {
			fmt.Fprintf(b, "  %s", x.name)
			for _, k := range x.keepers {
				c := x.cnt
				fmt.Fprintf(b, "  %s r=%.12g u=%.12g f=%.12g", names[k], c.Reads[k], c.Updates[k], c.Fills[k])
			}
			b.WriteString("\n")
		}
	}
}
