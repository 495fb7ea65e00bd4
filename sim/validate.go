package sim

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Limits Validate enforces: a schedule beyond them is a lowering bug or an
// unchecked user number, and simulating it would take memory or time in
// proportion to it (every dependency distance and stage spread keeps that
// many completion times per operation).
const (
	MaxDistance = 1 << 10 // dependency Back and stage spread within a loop
	MaxDepth    = 64      // nested loops
)

// Validate checks a schedule's sanity before it runs: every unit index,
// dependency and buffer level exists, every dependency counts iterations
// of a loop that encloses both ends and looks back a bounded distance,
// every number is finite and non-negative (PE shares in [0, 1]), and every
// action has an energy. It does not modify s.
func Validate(s *Schedule) error {
	if s == nil || s.Root == nil {
		return fmt.Errorf("sim: empty schedule")
	}
	if !finite(s.ClockHz) || s.ClockHz <= 0 {
		return fmt.Errorf("sim: clock %g Hz is not a positive number", s.ClockHz)
	}
	chains := map[*Op][]*Loop{}
	var errs []string
	var walk func(l *Loop, chain []*Loop)
	walk = func(l *Loop, chain []*Loop) {
		chain = append(chain[:len(chain):len(chain)], l)
		if len(chain) > MaxDepth {
			errs = append(errs, fmt.Sprintf("loop %s nests deeper than %d", l.Name, MaxDepth))
			return
		}
		if l.Count < 0 {
			errs = append(errs, fmt.Sprintf("loop %s has a negative count", l.Name))
		}
		smin, smax := 0, 0
		for _, it := range l.Body {
			switch x := it.(type) {
			case *Op:
				if _, dup := chains[x]; dup {
					errs = append(errs, fmt.Sprintf("op %s appears twice", x.Name))
				}
				chains[x] = chain
				smin, smax = min(smin, x.Stage), max(smax, x.Stage)
				errs = append(errs, s.checkOp(x)...)
			case *Loop:
				walk(x, chain)
			}
		}
		if smax-smin > MaxDistance {
			errs = append(errs, fmt.Sprintf("loop %s: stages span %d iterations (more than %d)", l.Name, smax-smin, MaxDistance))
		}
	}
	walk(s.Root, nil)
	for o, chain := range chains {
		for _, d := range o.Deps {
			dc, ok := chains[d.Op]
			switch {
			case !ok:
				errs = append(errs, fmt.Sprintf("op %s waits for %s, which is not in the schedule", o.Name, nameOf(d.Op)))
			case d.Back < 0 || d.Back > MaxDistance:
				errs = append(errs, fmt.Sprintf("op %s waits %d iterations back for %s (0..%d)", o.Name, d.Back, d.Op.Name, MaxDistance))
			case !encloses(chain, d.Loop) || !encloses(dc, d.Loop):
				errs = append(errs, fmt.Sprintf("dependency %s → %s counts iterations of loop %s, which does not enclose both", d.Op.Name, o.Name, nameOfLoop(d.Loop)))
			}
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("sim: invalid schedule: %s", strings.Join(errs, "; "))
	}
	return nil
}

func (s *Schedule) checkOp(o *Op) []string {
	var errs []string
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Sprintf("op %s: ", o.Name)+fmt.Sprintf(format, args...))
	}
	if o.Unit >= len(s.Units) || o.Unit < -1 {
		bad("unit %d of %d", o.Unit, len(s.Units))
	}
	for what, v := range map[string]float64{"cycles": o.Cycles, "latency": o.Latency, "bytes": o.Bytes} {
		if !finite(v) || v < 0 {
			bad("%s = %g", what, v)
		}
	}
	if !finite(o.PEFrac) || o.PEFrac < 0 || o.PEFrac > 1 {
		bad("PE share %g outside [0, 1]", o.PEFrac)
	}
	for k, v := range o.Actions {
		if _, ok := s.EnergyPJ[k]; !ok {
			bad("action %q has no energy", k)
		}
		if !finite(v) || v < 0 {
			bad("action %q counts %g", k, v)
		}
	}
	for _, h := range append(append([]Hold{}, o.Alloc...), o.Free...) {
		if h.Level < 0 || h.Level >= len(s.Levels) || !finite(h.Bytes) || h.Bytes < 0 {
			bad("holds %g bytes at level %d of %d", h.Bytes, h.Level, len(s.Levels))
		}
	}
	return errs
}

func encloses(chain []*Loop, l *Loop) bool {
	for _, x := range chain {
		if x == l {
			return true
		}
	}
	return false
}

func nameOf(o *Op) string {
	if o == nil {
		return "nil"
	}
	return o.Name
}

func nameOfLoop(l *Loop) string {
	if l == nil {
		return "nil"
	}
	return l.Name
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
