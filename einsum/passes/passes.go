package passes

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/fusemax/fusemax/einsum"
)

// Report is the pass analysis of one cascade over one rank.
type Report struct {
	Cascade string `json:"cascade"`
	Rank    string `json:"rank"` // the root rank, e.g. "M"
	Passes  int    `json:"passes"`
	// Einsums in the cascade's execution order (a tensor with a seed and a
	// recurrence appears once per definition).
	Einsums []EinsumPass `json:"einsums"`
	// Chains has one entry per extra pass, in pass order.
	Chains []Chain `json:"chains"`
	// Retained lists the fibers read again in a later pass than the one that
	// produced (or first read) them.
	Retained []Retained `json:"retained"`
	// Levels analyses each part of a split rank on its own (M1 with M0
	// fixed, M0 with M1 fixed): how often the tiles of M0 data are
	// traversed, how often the M1-sized partials are, and what each extra
	// traversal re-reads, with sizes counted per instance of the fixed
	// parts (F×M1×P partials, M0×P per m1 tile).
	Levels []Level `json:"levels,omitempty"`
}

// Level is the pass analysis over one part of a split rank.
type Level struct {
	Rank     string     `json:"rank"`
	Passes   int        `json:"passes"`
	Retained []Retained `json:"retained"`
}

// EinsumPass is the pass of one Einsum and why it is there.
type EinsumPass struct {
	Name   string `json:"name"`
	Pass   int    `json:"pass"`
	Line   int    `json:"line"`
	Col    int    `json:"col"`
	Reason string `json:"reason"`
}

// Chain is the dependency chain that forces pass Pass: Reducer completes a
// value only at the end of pass Pass-1 (a full reduction, or the last
// step of a recurrence), and Reader needs it while traversing
// the rank again.
type Chain struct {
	Pass     int      `json:"pass"`
	Reducers []string `json:"reducers"` // the Einsums that complete the needed values
	Reader   string   `json:"reader"`
	Needs    []string `json:"needs"`   // the complete values Reader reads, as written
	Rereads  []string `json:"rereads"` // the fibers Reader reads again, as written
	Text     string   `json:"text"`
}

// Retained is a fiber produced (or, for an input, first read) in pass From
// and read again in pass To.
type Retained struct {
	Tensor string   `json:"tensor"`
	Size   string   `json:"size"` // product of the extents, e.g. "M×P"
	From   int      `json:"from"`
	To     int      `json:"to"`
	ReadBy []string `json:"read_by"`
	Else   string   `json:"else"` // what a mapping must do if it does not keep it on chip
}

// DefaultRank is the rank a report is about when the user names none: the
// root of the first iterate block's rank if the cascade has one (the
// author's own choice of fiber), otherwise the root rank needing the most
// passes, ties broken by how many intermediates carry it (the rank "all
// large intermediates share"), then by how many outputs do, then by
// declaration order. It is nil only for a cascade without ranks.
func DefaultRank(c *einsum.Cascade) *einsum.Rank {
	for _, l := range c.Loops {
		if l.Var != nil {
			return l.Var.Root()
		}
	}
	var best *einsum.Rank
	var bestKey [3]int
	for _, r := range c.Ranks {
		if r.Parent != nil {
			continue
		}
		a := newAnalysis(c, r)
		n, err := a.run()
		if err != nil {
			n = 0
		}
		key := [3]int{n, carriers(c, r, einsum.Intermediate), carriers(c, r, einsum.Output)}
		if best == nil || key[0] > bestKey[0] ||
			key[0] == bestKey[0] && (key[1] > bestKey[1] || key[1] == bestKey[1] && key[2] > bestKey[2]) {
			best, bestKey = r, key
		}
	}
	return best
}

func carriers(c *einsum.Cascade, root *einsum.Rank, kind einsum.TensorKind) int {
	n := 0
	for _, t := range c.Tensors {
		if t.Kind != kind {
			continue
		}
		for _, d := range t.Dims {
			if d.Rank != nil && d.Rank.Root() == root {
				n++
				break
			}
		}
	}
	return n
}

// Analyze counts the passes of c over the fiber of the named rank ("" for
// DefaultRank). A split part stands for its root.
func Analyze(c *einsum.Cascade, rank string) (*Report, error) {
	if c == nil {
		return nil, fmt.Errorf("passes: no cascade")
	}
	var r *einsum.Rank
	if rank == "" {
		r = DefaultRank(c)
		if r == nil {
			return nil, fmt.Errorf("cascade %s declares no rank to count passes over", c.Name)
		}
	} else {
		r = c.Rank(rank)
		if r == nil {
			r = c.Rank(strings.ToUpper(rank))
		}
		if r == nil {
			names := make([]string, len(c.Ranks))
			for i, x := range c.Ranks {
				names[i] = x.Name
			}
			return nil, fmt.Errorf("cascade %s has no rank %q (its ranks: %s)", c.Name, rank, strings.Join(names, ", "))
		}
		r = r.Root()
	}
	a := newAnalysis(c, r)
	if _, err := a.run(); err != nil {
		return nil, err
	}
	rep := a.report()
	for _, part := range r.Parts {
		la := newAnalysis(c, r)
		la.part = part
		n, err := la.run()
		if err != nil {
			return nil, err
		}
		rep.Levels = append(rep.Levels, Level{Rank: part.Name, Passes: n, Retained: la.retained()})
	}
	return rep, nil
}

// value is what a read sees.
type value struct {
	pass     int            // the pass that produces it (0: an input)
	complete int            // complete after this pass; -1 when it still carries the fiber
	origin   *einsum.Einsum // the full reduction or recurrence that completes it
}

// cause is the read that decided an Einsum's pass.
type cause struct {
	read *einsum.Access
	val  value
}

type analysis struct {
	c      *einsum.Cascade
	root   *einsum.Rank
	part   *einsum.Rank // when set, the family is this part of root only
	index  map[*einsum.Einsum]int
	pass   []int
	out    []value // what each Einsum writes
	cause  []cause
	defer_ []bool // placed by its consumers (reads only inputs)
}

func newAnalysis(c *einsum.Cascade, root *einsum.Rank) *analysis {
	a := &analysis{c: c, root: root, index: map[*einsum.Einsum]int{}}
	for i, e := range c.Einsums {
		a.index[e] = i
	}
	return a
}

func (a *analysis) inFamily(r *einsum.Rank) bool {
	if r == nil || a.part == nil {
		return r != nil && r.Root() == a.root
	}
	for ; r != nil; r = r.Parent {
		if r == a.part {
			return true
		}
	}
	return false
}

func (a *analysis) hasFamilyVar(x einsum.Affine) bool {
	for _, t := range x.Terms {
		if a.inFamily(t.Var) {
			return true
		}
	}
	return false
}

func (a *analysis) familyLoop(e *einsum.Einsum) *einsum.Loop {
	if e.Loop != nil && a.inFamily(e.Loop.Var) {
		return e.Loop
	}
	return nil
}

func (a *analysis) traverses(e *einsum.Einsum) bool {
	if a.familyLoop(e) != nil {
		return true
	}
	for _, v := range e.Vars {
		if a.inFamily(v) {
			return true
		}
	}
	return false
}

func (a *analysis) fullyReduces(e *einsum.Einsum) bool {
	if !a.traverses(e) {
		return false
	}
	if e.TopK != nil && a.inFamily(e.TopK.Var) {
		return true // a selection needs every point of its fiber first
	}
	for _, x := range e.Output.Index {
		if a.hasFamilyVar(x) {
			return false
		}
	}
	return true
}

// reducedVars names the family variables e reduces away (for chains).
func (a *analysis) reducedVars(e *einsum.Einsum) []string {
	var out []string
	for _, v := range e.ReducedVars() {
		if a.inFamily(v) {
			out = append(out, v.Var())
		}
	}
	if l := a.familyLoop(e); l != nil && len(out) == 0 {
		out = append(out, l.Var.Var())
	}
	return out
}

func (a *analysis) isFiberRead(r *einsum.Access) bool {
	for _, x := range r.Index {
		if a.hasFamilyVar(x) {
			return true
		}
	}
	return false
}

// output is the value an Einsum writes as of the last evaluation.
func (a *analysis) output(e *einsum.Einsum) value { return a.out[a.index[e]] }

// evalOutput computes the value e writes from the current passes and the
// stored values of what it reads; storing them, rather than recursing, is
// what keeps recurrences (RD reads SPD reads RD) finite.
func (a *analysis) evalOutput(e *einsum.Einsum) value {
	i := a.index[e]
	v := value{pass: a.pass[i], complete: -1}
	switch {
	case a.fullyReduces(e):
		v.complete, v.origin = a.pass[i], e
	case !a.traverses(e):
		for _, r := range e.Reads() {
			if rv := a.read(r); rv.complete > v.complete {
				v.complete, v.origin = rv.complete, rv.origin
			}
		}
	}
	return v
}

func maxValue(vs []value) value {
	out := value{complete: -1}
	for _, v := range vs {
		if v.pass > out.pass {
			out.pass = v.pass
		}
		if v.complete > out.complete {
			out.complete, out.origin = v.complete, v.origin
		}
	}
	return out
}

// read is the value an access sees: which definitions of the tensor it
// reads depends on its index in the dimension a family loop iterates.
func (a *analysis) read(r *einsum.Access) value {
	t := r.Tensor
	if len(t.Defs) == 0 {
		return value{pass: 0, complete: -1}
	}
	var inLoop, outside []*einsum.Einsum
	dim := -1
	for _, d := range t.Defs {
		if l := a.familyLoop(d); l != nil {
			inLoop = append(inLoop, d)
			for j, x := range d.Output.Index {
				if !x.Coef(l.Var).IsZero() {
					dim = j
				}
			}
		} else {
			outside = append(outside, d)
		}
	}
	all := func(ds []*einsum.Einsum) value {
		vs := make([]value, len(ds))
		for i, d := range ds {
			vs[i] = a.output(d)
		}
		return maxValue(vs)
	}
	if len(inLoop) == 0 || dim < 0 || dim >= len(r.Index) || len(r.Index[dim].Terms) > 0 {
		return all(t.Defs)
	}
	c := r.Index[dim].Const
	for _, s := range outside {
		if seedIndex(s, dim, c) {
			return a.output(s)
		}
	}
	v := all(inLoop)
	if _, isNumber := c.IsConst(); !isNumber {
		// A constant naming a size is the end of the fiber: the last
		// iteration's value.
		v.complete = v.pass
		v.origin = inLoop[len(inLoop)-1]
	}
	return v
}

// seedIndex reports whether s writes index c of dimension dim, either at a
// constant (RD[0, p]) or through a filter (RD[m1: m1 == 0, p]).
func seedIndex(s *einsum.Einsum, dim int, c einsum.Poly) bool {
	if dim >= len(s.Output.Index) {
		return false
	}
	x := s.Output.Index[dim]
	if len(x.Terms) == 0 {
		return x.Const.Equal(c)
	}
	v, ok := x.IsVar()
	if !ok {
		return false
	}
	for _, f := range s.Filters {
		if f.Op != einsum.EQ {
			continue
		}
		if fv, ok := f.L.IsVar(); ok && fv == v && len(f.R.Terms) == 0 && f.R.Const.Equal(c) {
			return true
		}
		if fv, ok := f.R.IsVar(); ok && fv == v && len(f.L.Terms) == 0 && f.L.Const.Equal(c) {
			return true
		}
	}
	return false
}

// require is the pass e needs because of one read.
func (a *analysis) require(e *einsum.Einsum, v value) int {
	if v.complete >= 0 {
		if a.traverses(e) {
			return v.complete + 1
		}
		return v.complete
	}
	return v.pass
}

func (a *analysis) run() (int, error) {
	n := len(a.c.Einsums)
	a.pass = make([]int, n)
	a.cause = make([]cause, n)
	a.defer_ = make([]bool, n)
	a.out = make([]value, n)
	for i := range a.pass {
		a.pass[i] = 1
		a.out[i] = value{pass: 1, complete: -1}
	}
	// Passes and completions only grow (every rule is monotone), and each
	// extra pass needs a distinct Einsum completing a value, so a pass above
	// n+1 means a cycle through a complete value (a loop needing its own
	// final value), which no number of passes computes.
	for {
		changed := false
		for i, e := range a.c.Einsums {
			p, cs := 1, cause{}
			for _, r := range e.Reads() {
				v := a.read(r)
				if q := a.require(e, v); q > p || q == p && q > 0 && v.complete >= 0 && (cs.read == nil || cs.val.complete < 0) {
					p, cs = q, cause{read: r, val: v}
				}
			}
			if p != a.pass[i] {
				a.pass[i], changed = p, true
			}
			a.cause[i] = cs
			if v := a.evalOutput(e); v != a.out[i] {
				a.out[i], changed = v, true
			}
		}
		if !changed {
			break
		}
		if slices.Max(a.pass) > n+1 {
			return 0, a.divergence()
		}
	}
	a.placeInputOnly()
	most := 0
	for _, p := range a.pass {
		most = max(most, p)
	}
	return most, nil
}

// divergence names an Einsum that needs, inside a traversal, a value that
// only that same traversal completes.
func (a *analysis) divergence() error {
	for i, e := range a.c.Einsums {
		if cs := a.cause[i]; cs.read != nil && cs.val.complete >= 0 && a.familyLoop(e) != nil {
			return fmt.Errorf("%s: %s reads %s inside iterate %s, but that value is complete only after the whole traversal of %s: no number of passes can compute it",
				cs.read.Pos, e.Name(), cs.read, a.familyLoop(e).Var.Var(), strings.ToLower(a.root.Name))
		}
	}
	return fmt.Errorf("cascade %s: passes over %s do not converge: a value complete only after a traversal is needed within that same traversal", a.c.Name, a.root.Name)
}

// placeInputOnly moves each Einsum that reads only inputs, and does not
// complete a value, to the first pass that consumes it.
func (a *analysis) placeInputOnly() {
	n := len(a.c.Einsums)
	inputOnly := make([]bool, n)
	for i, e := range a.c.Einsums {
		// A reduction over the fiber, even a partial one (LM[m1, p] over
		// m0), completes values its readers wait for: neither it nor they
		// read only inputs.
		ok := !a.fullyReduces(e) && !hasReduced(a, e)
		for _, r := range e.Reads() {
			// Within a level only maps of inputs move (reshapes such as
			// BV): other work stays where its data is, so that what a
			// second traversal of the part reads is what the first made.
			ok = ok && (a.part == nil || len(r.Tensor.Defs) == 0)
			for _, d := range r.Tensor.Defs {
				if j, known := a.index[d]; !known || !inputOnly[j] {
					ok = false
				}
			}
		}
		inputOnly[i] = ok
	}
	consumers := make([][]int, n)
	for i, e := range a.c.Einsums {
		for _, r := range e.Reads() {
			for _, d := range r.Tensor.Defs {
				if j, ok := a.index[d]; ok && j != i {
					consumers[j] = append(consumers[j], i)
				}
			}
		}
	}
	for j := n - 1; j >= 0; j-- {
		if !inputOnly[j] || len(consumers[j]) == 0 {
			continue
		}
		first := a.pass[consumers[j][0]]
		for _, i := range consumers[j][1:] {
			first = min(first, a.pass[i])
		}
		if first > a.pass[j] {
			a.pass[j], a.defer_[j] = first, true
			a.out[j].pass = first
		}
	}
}

func (a *analysis) report() *Report {
	rep := &Report{Cascade: a.c.Name, Rank: a.root.Name, Einsums: []EinsumPass{}, Chains: []Chain{}, Retained: []Retained{}}
	for i, e := range a.c.Einsums {
		rep.Passes = max(rep.Passes, a.pass[i])
		rep.Einsums = append(rep.Einsums, EinsumPass{
			Name: e.Name(), Pass: a.pass[i], Line: e.Pos.Line, Col: e.Pos.Col, Reason: a.reason(i),
		})
	}
	for k := 2; k <= rep.Passes; k++ {
		if ch, ok := a.chain(k); ok {
			rep.Chains = append(rep.Chains, ch)
		}
	}
	rep.Retained = a.retained()
	return rep
}

func (a *analysis) reason(i int) string {
	e := a.c.Einsums[i]
	fam := strings.ToLower(a.root.Name)
	var why string
	cs := a.cause[i]
	switch {
	case a.defer_[i]:
		why = "reads only inputs; placed in the first pass that uses it"
	case cs.read != nil && cs.val.complete >= 0 && a.traverses(e):
		why = fmt.Sprintf("needs %s, complete only after pass %d, and traverses %s again", cs.read, cs.val.complete, fam)
	case cs.read != nil && cs.val.complete >= 0:
		why = fmt.Sprintf("uses %s, complete after pass %d, without traversing %s", cs.read, cs.val.complete, fam)
	case cs.read != nil:
		why = fmt.Sprintf("reads %s, produced in pass %d", cs.read, cs.val.pass)
	case !a.traverses(e) && len(e.Reads()) == 0:
		why = "a constant: available from the first pass"
	case !a.traverses(e):
		why = fmt.Sprintf("does not traverse %s", fam)
	default:
		why = fmt.Sprintf("traverses %s in the first pass", fam)
	}
	switch {
	case a.fullyReduces(e):
		why += fmt.Sprintf("; reduces all of %s", strings.Join(a.reducedVars(e), ", "))
	case a.familyLoop(e) != nil && !a.isRecurrence(e) && hasReduced(a, e):
		why += fmt.Sprintf("; reduces %s within one %s step only", strings.Join(a.reducedVars(e), ", "), a.familyLoop(e).Var.Var())
	case a.familyLoop(e) != nil && a.isRecurrence(e):
		why += fmt.Sprintf("; running value over %s", a.familyLoop(e).Var.Var())
	}
	return why
}

// hasReduced reports whether e reduces a family variable itself (not just
// runs inside a loop over one).
func hasReduced(a *analysis, e *einsum.Einsum) bool {
	for _, v := range e.ReducedVars() {
		if a.inFamily(v) {
			return true
		}
	}
	return false
}

func (a *analysis) isRecurrence(e *einsum.Einsum) bool {
	l := a.familyLoop(e)
	for _, x := range e.Output.Index {
		if !x.Coef(l.Var).IsZero() && !x.Const.IsZero() {
			return true
		}
	}
	return false
}

// chain explains pass k by the first Einsum whose pass k comes from needing
// a complete value while traversing again.
func (a *analysis) chain(k int) (Chain, bool) {
	for i, e := range a.c.Einsums {
		cs := a.cause[i]
		if a.pass[i] != k || a.defer_[i] || cs.read == nil || cs.val.complete != k-1 || !a.traverses(e) {
			continue
		}
		ch := Chain{Pass: k, Reader: e.Name(), Reducers: []string{}, Needs: []string{}, Rereads: []string{}}
		var reducers, finals []string
		finalVar := ""
		seen := map[string]bool{}
		for _, r := range e.Reads() {
			v := a.read(r)
			switch {
			case v.complete == k-1 && !seen[r.Tensor.Name]:
				seen[r.Tensor.Name] = true
				ch.Needs = append(ch.Needs, r.Tensor.Name)
				if o := v.origin; o != nil && !seen["\x00"+o.Name()] {
					seen["\x00"+o.Name()] = true
					ch.Reducers = append(ch.Reducers, o.Name())
					if a.fullyReduces(o) {
						reducers = append(reducers, fmt.Sprintf("%s reduces all of %s", o.Name(), strings.Join(a.reducedVars(o), ", ")))
					} else {
						finals = append(finals, o.Name())
						if l := a.familyLoop(o); l != nil {
							finalVar = l.Var.Var()
						}
					}
				}
			case a.isFiberRead(r) && v.complete < 0 && !seen[r.String()]:
				seen[r.String()] = true
				ch.Rereads = append(ch.Rereads, r.String())
			}
		}
		if len(finals) > 0 {
			verb := "is"
			if len(finals) > 1 {
				verb = "are"
			}
			reducers = append(reducers, fmt.Sprintf("%s %s final only after all of %s", joinAnd(finals), verb, finalVar))
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s in pass %d; %s needs %s", joinAnd(reducers), k-1, e.Name(), joinAnd(append(append([]string{}, ch.Needs...), ch.Rereads...)))
		if len(ch.Rereads) > 0 {
			b.WriteString(" again")
		} else {
			fmt.Fprintf(&b, " while traversing %s again", strings.ToLower(a.root.Name))
		}
		fmt.Fprintf(&b, " → pass %d", k)
		ch.Text = b.String()
		return ch, true
	}
	return Chain{}, false
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func (a *analysis) retained() []Retained {
	type key struct {
		t        *einsum.Tensor
		from, to int
	}
	found := map[key]*Retained{}
	var order []key
	add := func(t *einsum.Tensor, from, to int, by string) {
		k := key{t, from, to}
		r := found[k]
		if r == nil {
			r = &Retained{Tensor: t.Name, Size: a.sizeOf(t), From: from, To: to}
			if t.Kind == einsum.Input {
				r.Else = "re-read from memory"
			} else {
				r.Else = "write to memory and re-read, or recompute"
			}
			found[k] = r
			order = append(order, k)
		}
		for _, b := range r.ReadBy {
			if b == by {
				return
			}
		}
		r.ReadBy = append(r.ReadBy, by)
	}
	// An input's first pass is the first pass that reads it as a fiber.
	firstRead := map[*einsum.Tensor]int{}
	for i, e := range a.c.Einsums {
		for _, r := range e.Reads() {
			if r.Tensor.Kind == einsum.Input && len(r.Tensor.Defs) == 0 && a.isFiberRead(r) {
				if p, ok := firstRead[r.Tensor]; !ok || a.pass[i] < p {
					firstRead[r.Tensor] = a.pass[i]
				}
			}
		}
	}
	for i, e := range a.c.Einsums {
		for _, r := range e.Reads() {
			if !a.isFiberRead(r) {
				continue
			}
			var from int
			if len(r.Tensor.Defs) == 0 {
				from = firstRead[r.Tensor]
			} else {
				v := a.read(r)
				if v.complete >= 0 {
					continue
				}
				from = 0
				for _, d := range r.Tensor.Defs {
					from = max(from, a.pass[a.index[d]])
				}
			}
			if from > 0 && from < a.pass[i] {
				add(r.Tensor, from, a.pass[i], e.Name())
			}
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].from != order[j].from {
			return order[i].from < order[j].from
		}
		return order[i].to < order[j].to
	})
	out := []Retained{}
	for _, k := range order {
		out = append(out, *found[k])
	}
	return out
}

// SizeFormula is the product of t's extents in the ranks, with the parts of
// a split collapsed into their parent (M1×M0×P is written M×P), as
// "M×P"; a scalar is "1".
func SizeFormula(c *einsum.Cascade, t *einsum.Tensor) string {
	type factor struct {
		rank *einsum.Rank // nil when the extent is not exactly a rank's size
		text string
	}
	fs := make([]factor, 0, len(t.Dims))
	for _, d := range t.Dims {
		if d.Rank != nil && d.Extent.Equal(d.Rank.Size()) {
			fs = append(fs, factor{d.Rank, d.Rank.Name})
			continue
		}
		s := d.Extent.String()
		if strings.ContainsAny(s, "+- ") {
			s = "(" + s + ")"
		}
		fs = append(fs, factor{nil, s})
	}
	// Collapse innermost splits first so that nested splits fold all the
	// way up to their root.
	for changed := true; changed; {
		changed = false
		for _, r := range c.Ranks {
			if len(r.Parts) == 0 {
				continue
			}
			pos := make([]int, len(r.Parts))
			ok := true
			for i, p := range r.Parts {
				pos[i] = -1
				for j, f := range fs {
					if f.rank == p {
						pos[i] = j
						break
					}
				}
				ok = ok && pos[i] >= 0
			}
			if !ok {
				continue
			}
			first := pos[0]
			for _, p := range pos {
				first = min(first, p)
			}
			drop := map[int]bool{}
			for _, p := range pos {
				drop[p] = p != first
			}
			var next []factor
			for j, f := range fs {
				switch {
				case j == first:
					next = append(next, factor{r, r.Name})
				case !drop[j]:
					next = append(next, f)
				}
			}
			fs, changed = next, true
		}
	}
	if len(fs) == 0 {
		return "1"
	}
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = f.text
	}
	return strings.Join(s, "×")
}

// sizeOf is the size of t that one traversal of the family sees: all of
// it, or for a level the dimensions not indexed by the other parts of the
// split, which are fixed meanwhile ("M0×P per m1").
func (a *analysis) sizeOf(t *einsum.Tensor) string {
	if a.part == nil {
		return SizeFormula(a.c, t)
	}
	cut := *t
	cut.Dims = nil
	var fixed []string
	for _, d := range t.Dims {
		if d.Rank == a.root {
			// Indexed by the whole rank (K[e, m1*M0 + m0]): one traversal
			// of the part sees the part's extent of it.
			d = einsum.Dim{Rank: a.part, Extent: a.part.Size()}
			for _, p := range a.root.Parts {
				if p != a.part && !slices.Contains(fixed, p.Var()) {
					fixed = append(fixed, p.Var())
				}
			}
		}
		if d.Rank != nil && d.Rank.Root() == a.root && !a.inFamily(d.Rank) && d.Rank != a.root {
			if !slices.Contains(fixed, d.Rank.Var()) {
				fixed = append(fixed, d.Rank.Var())
			}
			continue
		}
		cut.Dims = append(cut.Dims, d)
	}
	s := SizeFormula(a.c, &cut)
	if len(fixed) > 0 {
		s += " per " + strings.Join(fixed, ", ")
	}
	return s
}
