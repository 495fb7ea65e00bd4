package sim

import (
	"errors"
	"fmt"
)

// Schedule is a loop-structured program of operations on units.
type Schedule struct {
	ClockHz float64
	Units   []Unit
	Levels  []string // buffer levels whose occupancy is tracked
	Root    *Loop
	// EnergyPJ is the energy of one count of each action key that Op.Actions
	// uses.
	EnergyPJ map[string]float64
}

// Unit is a compute array or a memory channel. Operations on one unit run
// one at a time, in issue order.
type Unit struct {
	Name string
	// Memory marks a transfer channel; its busy time is reported as the
	// channel's utilization, not a compute array's.
	Memory bool
}

// Item is an *Op or a *Loop.
type Item interface{ item() }

// Loop runs its body Count times. A body item with Stage s issues, in issue
// iteration k, its instance for iteration k-s: software pipelining, so that
// a load can run one iteration ahead (Stage -1) or a later phase one
// iteration behind. Nested loops have stage 0.
type Loop struct {
	Name  string
	Count int64
	Body  []Item

	id                  int
	smin, smax          int
	execStart, issueCum int64 // cumulative iteration numbering across executions
	cur                 int64 // logical cumulative iteration of the running body
	maxBack             int
}

// Op is one tile operation.
type Op struct {
	Name   string // what a report calls it
	Einsum string // the Einsum whose work this is ("" for transfers)
	Unit   int    // index into Schedule.Units; -1 for a zero-time bookkeeping op
	Cycles float64
	// Latency is how long after its last issue cycle an operation's result
	// is complete (pipeline drain): dependents wait for it, the unit does not.
	Latency float64
	// PEFrac is the share of the unit's PEs the operation keeps busy, the
	// weight of its cycles in the unit's utilization.
	PEFrac  float64
	Stage   int
	Deps    []Dep
	Actions map[string]float64 // action key → count per instance
	Bytes   float64            // bytes moved over a memory channel, per instance
	Alloc   []Hold             // buffer space taken when the operation starts
	Free    []Hold             // buffer space given back when it completes

	id    int
	loops []*Loop // enclosing loops, outermost first
	rings [][]stamp
	// lastTag is, per enclosing loop, the latest iteration with an issued
	// instance: a dependency on a later one is a bug in the schedule.
	lastTag []int64
	acts    []int // action indices
	actN    []float64
	parent  *Loop
}

// Dep makes an operation wait for Op's last instance in the iteration of
// Loop (which must enclose both) that lies Back iterations before the
// waiting instance's own. An instance that falls before the loop's current
// execution (the first iteration of a recurrence) does not constrain.
type Dep struct {
	Op   *Op
	Loop *Loop
	Back int
}

// Hold is an amount of buffer space at a level. When restricts it to the
// first or last iteration of the operation's innermost loop.
type Hold struct {
	Level int
	Bytes float64
	When  When
}

// When selects the iterations a Hold applies in.
type When int

const (
	Every When = iota
	First
	Last
)

type stamp struct {
	tag int64
	t   float64
}

func (*Op) item()   {}
func (*Loop) item() {}

// prepare numbers loops and ops, records each op's enclosing loops, checks
// that every dependency names an enclosing loop, and sizes the rings.
func (s *Schedule) prepare() (ops []*Op, loops []*Loop, err error) {
	if s.Root == nil {
		return nil, nil, errors.New("sim: empty schedule")
	}
	var walk func(l *Loop, chain []*Loop) error
	walk = func(l *Loop, chain []*Loop) error {
		if l.Count < 0 {
			return fmt.Errorf("sim: loop %s has a negative count", l.Name)
		}
		l.id = len(loops)
		loops = append(loops, l)
		chain = append(chain[:len(chain):len(chain)], l)
		l.smin, l.smax = 0, 0
		for _, it := range l.Body {
			switch x := it.(type) {
			case *Op:
				x.id = len(ops)
				x.loops = chain
				x.parent = l
				ops = append(ops, x)
				l.smin = min(l.smin, x.Stage)
				l.smax = max(l.smax, x.Stage)
				if x.Unit >= len(s.Units) || x.Unit < -1 {
					return fmt.Errorf("sim: op %s names unit %d of %d", x.Name, x.Unit, len(s.Units))
				}
			case *Loop:
				if err := walk(x, chain); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(s.Root, nil); err != nil {
		return nil, nil, err
	}
	for _, o := range ops {
		for _, d := range o.Deps {
			if d.Back < 0 {
				return nil, nil, fmt.Errorf("sim: %s waits for a later iteration of %s", o.Name, d.Op.Name)
			}
			if level(o, d.Loop) < 0 || level(d.Op, d.Loop) < 0 {
				return nil, nil, fmt.Errorf("sim: dependency %s → %s counts iterations of loop %s, which does not enclose both", d.Op.Name, o.Name, d.Loop.Name)
			}
			d.Loop.maxBack = max(d.Loop.maxBack, d.Back)
		}
	}
	for _, o := range ops {
		o.rings = make([][]stamp, len(o.loops))
		o.lastTag = make([]int64, len(o.loops))
		for i := range o.lastTag {
			o.lastTag[i] = -1
		}
		for i, l := range o.loops {
			n := l.maxBack + 1 + (l.smax - l.smin)
			o.rings[i] = make([]stamp, n)
			for j := range o.rings[i] {
				o.rings[i][j].tag = -1
			}
		}
	}
	return ops, loops, nil
}

func level(o *Op, l *Loop) int {
	for i, x := range o.loops {
		if x == l {
			return i
		}
	}
	return -1
}

// Walk calls f for every operation of the loop tree under l, in body order.
func Walk(l *Loop, f func(*Op)) {
	if l == nil {
		return
	}
	for _, it := range l.Body {
		switch x := it.(type) {
		case *Op:
			f(x)
		case *Loop:
			Walk(x, f)
		}
	}
}
