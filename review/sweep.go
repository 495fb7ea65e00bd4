package review

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/fusemax/fusemax/workload"
)

// Sweep is a grid of design points: every design × every combination of
// the axes' values × every case. Points are numbered design outermost,
// then the axes in the order given, then the cases; the numbering is what
// shards slice and what merge puts back in order.
type Sweep struct {
	Designs []*Design
	Axes    []Axis
	Cases   []Case
	Profile string
}

// Axis is one swept spec value: a --set path and the values it takes.
type Axis struct {
	Path   string // arch.PATH or mapping.PATH
	Values []string
}

// maxPoints bounds a sweep before any work proportional to it.
const maxPoints = 10_000_000

// ParseAxis reads PATH=LIST, e.g. arch.arrays.2d.rows=64,128,256 or
// arch.memory.L3.capacity=8MiB..64MiB*2 (see ParseList).
func ParseAxis(arg string) (Axis, error) {
	p, v, ok := strings.Cut(arg, "=")
	p = strings.TrimSpace(p)
	if !ok || p == "" {
		return Axis{}, fmt.Errorf("--set %q: want PATH=VALUES, e.g. arch.arrays.2d.rows=64,128,256", arg)
	}
	if !strings.HasPrefix(p, "arch.") && !strings.HasPrefix(p, "mapping.") {
		return Axis{}, fmt.Errorf("--set %q: say which spec, arch.PATH or mapping.PATH", arg)
	}
	vs, err := ParseList(v)
	if err != nil {
		return Axis{}, fmt.Errorf("--set %s: %v", p, err)
	}
	return Axis{Path: p, Values: vs}, nil
}

// Len is the number of points; it checks the bound.
func (s *Sweep) Len() (int, error) {
	n := len(s.Designs) * len(s.Cases)
	for _, a := range s.Axes {
		n *= len(a.Values)
		if n > maxPoints || len(a.Values) == 0 {
			break
		}
	}
	if n > maxPoints {
		return 0, fmt.Errorf("the sweep has more than %d points; narrow it or split it into several sweeps", maxPoints)
	}
	return n, nil
}

// at decodes point i: its design (with the axes' overrides appended), the
// index of each axis' value, and its case.
func (s *Sweep) at(i int) (*Design, []int, Case) {
	nc := len(s.Cases)
	c := s.Cases[i%nc]
	i /= nc
	vals := make([]int, len(s.Axes))
	for k := len(s.Axes) - 1; k >= 0; k-- {
		n := len(s.Axes[k].Values)
		vals[k] = i % n
		i /= n
	}
	base := s.Designs[i]
	d := *base
	d.Set = slices.Clone(base.Set)
	for k, a := range s.Axes {
		d.Set = append(d.Set, a.Path+"="+a.Values[vals[k]])
	}
	return &d, vals, c
}

// Shard is slice I of N of a sweep: the points whose number is I mod N,
// so that every shard gets a like share of every design and length.
type Shard struct{ I, N int }

// ParseShard reads I/N with 0 <= I < N (Slurm's SLURM_ARRAY_TASK_ID with
// --array=0-(N-1), or a Kubernetes Job's JOB_COMPLETION_INDEX).
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n || n > maxPoints {
		return Shard{}, fmt.Errorf("--shard %q: want I/N with 0 <= I < N, e.g. 0/8", s)
	}
	return Shard{i, n}, nil
}

// Run evaluates the shard's points (Shard{0, 1}: all of them) and returns
// them as a table, one row per point in point order.
func (s *Sweep) Run(e *Evaluator, sh Shard, opt Options) (*Table, error) {
	n, err := s.Len()
	if err != nil {
		return nil, err
	}
	if sh.N == 0 {
		sh = Shard{0, 1}
	}
	var idx []int
	for i := sh.I; i < n; i += sh.N {
		idx = append(idx, i)
	}
	ms := make([]*Metrics, len(idx))
	errs := make([]error, len(idx))
	run(len(idx), opt, func(k int) {
		d, _, c := s.at(idx[k])
		ms[k], errs[k] = e.Evaluate(d, c, s.Profile)
	})
	if sh.N == 1 {
		// A shard may hold only points that do not fit; the whole sweep
		// failing everywhere is wrong input.
		if err := s.allFailed(errs); err != nil {
			return nil, err
		}
	}
	units, levels, parts := columns(ms)
	t := &Table{Header: s.header(units, levels, parts)}
	for k, i := range idx {
		d, vals, c := s.at(i)
		row := []string{strconv.Itoa(i), d.Label}
		for a, v := range vals {
			row = append(row, s.Axes[a].Values[v])
		}
		row = append(row, c.Workload, seqText(c.Seq), workload.FormatShape(c.Shape))
		errText := ""
		if errs[k] != nil {
			errText = errs[k].Error()
		}
		t.Rows = append(t.Rows, append(row, metricCells(ms[k], errText, units, levels, parts)...))
	}
	return t, nil
}

// allFailed is the first error when every point failed: then the sweep's
// input is wrong, not one point infeasible.
func (s *Sweep) allFailed(errs []error) error {
	for _, err := range errs {
		if err == nil {
			return nil
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("every point failed; the first: %w", errs[0])
}

func (s *Sweep) header(units, levels, parts []string) []string {
	h := []string{"point", "design"}
	for _, a := range s.Axes {
		h = append(h, a.Path)
	}
	h = append(h, "workload", "seq", "shape")
	return append(h, metricHeader(units, levels, parts)...)
}

// NewSweep is the sweep the flags describe: the designs and shapes as
// compare reads them, and every --set (f.Set) an axis.
func NewSweep(f Flags) (*Sweep, error) {
	sets := f.Set
	f.Set = nil
	r, err := FromFlags(f)
	if err != nil {
		return nil, err
	}
	return SweepOf(r, sets)
}

// SweepOf sweeps a review's designs and shapes over the axes sets.
func SweepOf(r *Review, sets []string) (*Sweep, error) {
	s := &Sweep{Designs: r.Designs, Cases: r.Cases, Profile: r.Profile}
	seen := map[string]bool{}
	for _, a := range sets {
		ax, err := ParseAxis(a)
		if err != nil {
			return nil, err
		}
		if seen[ax.Path] {
			return nil, fmt.Errorf("--set %s is given twice; list its values in one flag", ax.Path)
		}
		seen[ax.Path] = true
		s.Axes = append(s.Axes, ax)
	}
	_, err := s.Len()
	return s, err
}
