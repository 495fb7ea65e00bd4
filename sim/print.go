package sim

import (
	"fmt"
	"slices"
	"strings"
)

// Format prints the schedule canonically: its units and buffer levels,
// then the loop tree, one line per loop and per operation with its unit,
// cycles, stage, the bytes it moves, its buffer holds, what it waits for
// and its actions per instance. The same schedule always prints the same
// text, so it serves as a golden file.
func (s *Schedule) Format() string {
	var b strings.Builder
	fmt.Fprintf(&b, "clock %s Hz\n", num(s.ClockHz))
	for i, u := range s.Units {
		kind := "compute"
		if u.Memory {
			kind = "memory channel"
		}
		fmt.Fprintf(&b, "unit %d %s (%s)\n", i, u.Name, kind)
	}
	for i, l := range s.Levels {
		fmt.Fprintf(&b, "level %d %s\n", i, l)
	}
	if s.Root != nil {
		s.formatLoop(&b, s.Root, 0)
	}
	return b.String()
}

func (s *Schedule) formatLoop(b *strings.Builder, l *Loop, depth int) {
	pad := strings.Repeat("  ", depth)
	fmt.Fprintf(b, "%sloop %s ×%d\n", pad, l.Name, l.Count)
	for _, it := range l.Body {
		switch x := it.(type) {
		case *Op:
			s.formatOp(b, x, pad+"  ")
		case *Loop:
			s.formatLoop(b, x, depth+1)
		}
	}
}

func (s *Schedule) formatOp(b *strings.Builder, o *Op, pad string) {
	unit := "-"
	if o.Unit >= 0 && o.Unit < len(s.Units) {
		unit = s.Units[o.Unit].Name
	}
	fmt.Fprintf(b, "%sop %q on %s: %s cycles", pad, o.Name, unit, num(o.Cycles))
	if o.PEFrac != 1 {
		fmt.Fprintf(b, " on %s of the PEs", num(o.PEFrac))
	}
	if o.Latency != 0 {
		fmt.Fprintf(b, ", result after +%s", num(o.Latency))
	}
	if o.Stage != 0 {
		fmt.Fprintf(b, ", stage %d", o.Stage)
	}
	if o.Bytes != 0 {
		fmt.Fprintf(b, ", %s B", num(o.Bytes))
	}
	b.WriteString("\n")
	for _, h := range o.Alloc {
		fmt.Fprintf(b, "%s  takes %s B of %s%s\n", pad, num(h.Bytes), s.level(h.Level), when(h.When))
	}
	for _, h := range o.Free {
		fmt.Fprintf(b, "%s  frees %s B of %s%s\n", pad, num(h.Bytes), s.level(h.Level), when(h.When))
	}
	for _, d := range o.Deps {
		back := ""
		if d.Back > 0 {
			back = fmt.Sprintf(" %d back", d.Back)
		}
		fmt.Fprintf(b, "%s  after %q (iteration of %s%s)\n", pad, nameOf(d.Op), nameOfLoop(d.Loop), back)
	}
	keys := make([]string, 0, len(o.Actions))
	for k := range o.Actions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(b, "%s  %s × %s\n", pad, k, num(o.Actions[k]))
	}
}

func (s *Schedule) level(i int) string {
	if i >= 0 && i < len(s.Levels) {
		return s.Levels[i]
	}
	return fmt.Sprintf("level %d", i)
}

func when(w When) string {
	switch w {
	case First:
		return " (first iteration)"
	case Last:
		return " (last iteration)"
	}
	return ""
}

// num prints a number with 7 significant digits: enough to tell schedules
// apart, few enough that the text does not depend on float rounding noise.
func num(v float64) string { return fmt.Sprintf("%.7g", v) }
