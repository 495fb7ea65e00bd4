package interp

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/tensor"
)

// DType selects the arithmetic of a run.
type DType = tensor.DType

const (
	F64 = tensor.F64
	F32 = tensor.F32
)

// Options tune a run.
type Options struct {
	DType DType
}

// RandomInputs draws every input of c uniformly in [-1, 1) from the stream
// of (seed, input name), so that the inputs are the same on every machine.
func RandomInputs(c *einsum.Cascade, sizes map[string]int64, seed uint64) (map[string]*tensor.Dense, error) {
	bound, _, err := c.Bind(sizes)
	if err != nil {
		return nil, err
	}
	out := map[string]*tensor.Dense{}
	for _, t := range c.Inputs {
		shape, err := shapeOf(t, bound)
		if err != nil {
			return nil, err
		}
		out[t.Name] = tensor.Random(seed, t.Name, tensor.UniformDist, shape...)
	}
	return out, nil
}

func shapeOf(t *einsum.Tensor, sizes map[string]int64) ([]int, error) {
	shape := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		v, err := d.Extent.Eval(sizes)
		if err != nil {
			return nil, fmt.Errorf("%s: extent of %s's dimension %d: %v", t.Pos, t.Name, i+1, err)
		}
		if v <= 0 || v > math.MaxInt32 {
			return nil, fmt.Errorf("%s: %s's dimension %d has extent %d", t.Pos, t.Name, i+1, v)
		}
		shape[i] = int(v)
	}
	if n := tensor.NumElems(shape); n <= 0 || n > 1<<34 {
		return nil, fmt.Errorf("%s: %s has shape %v, too large", t.Pos, t.Name, shape)
	}
	return shape, nil
}

// Run executes c with the given rank sizes (split parts may be left for Bind
// to derive) and input tensors, and returns every tensor of c by name:
// inputs (as used, so rounded in float32 mode), outputs and intermediates.
func Run(c *einsum.Cascade, sizes map[string]int64, inputs map[string]*tensor.Dense, opts Options) (map[string]*tensor.Dense, error) {
	bound, _, err := c.Bind(sizes)
	if err != nil {
		return nil, err
	}
	m := &machine{c: c, sizes: bound, f32: opts.DType == F32, tensors: map[*einsum.Tensor]*tstate{}, slot: map[*einsum.Rank]int{}}
	for i, r := range c.Ranks {
		m.slot[r] = i
		m.rsize = append(m.rsize, bound[r.Name])
	}
	m.vals = make([]int64, len(c.Ranks))
	var unknown []string
	for name := range inputs {
		if t := c.Tensor(name); t == nil || t.Kind != einsum.Input {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("cascade %s has no input %s", c.Name, strings.Join(unknown, ", "))
	}
	for _, t := range c.Tensors {
		shape, err := shapeOf(t, bound)
		if err != nil {
			return nil, err
		}
		ts := &tstate{t: t, strides: tensor.Strides(shape)}
		if t.Kind == einsum.Input {
			in := inputs[t.Name]
			if in == nil {
				return nil, fmt.Errorf("cascade %s: input %s is missing", c.Name, t.Name)
			}
			if len(in.Shape) != len(shape) || len(in.Data) != tensor.NumElems(in.Shape) || !in.SameShape(&tensor.Dense{Shape: shape}) {
				return nil, fmt.Errorf("input %s has shape %v, cascade %s needs %v", t.Name, in.Shape, c.Name, shape)
			}
			ts.d = in.Clone()
			if m.f32 {
				ts.d.RoundF32()
			}
			ts.full = true
		} else {
			ts.d = tensor.Filled(math.NaN(), shape...)
			ts.mask = make([]byte, len(ts.d.Data))
		}
		m.tensors[t] = ts
	}

	stmts := make(map[*einsum.Einsum]*stmt, len(c.Einsums))
	for _, e := range c.Einsums {
		s, err := m.compile(e)
		if err != nil {
			return nil, err
		}
		stmts[e] = s
	}
	for i := 0; i < len(c.Einsums); {
		e := c.Einsums[i]
		if e.Loop == nil {
			if err := m.exec(stmts[e]); err != nil {
				return nil, err
			}
			i++
			continue
		}
		l := e.Loop
		body := len(l.Body)
		if i+body > len(c.Einsums) {
			return nil, fmt.Errorf("%s: iterate block is not consecutive in the cascade", l.Pos)
		}
		until, err := m.compileCond(l.Until)
		if err != nil {
			return nil, err
		}
		ls := m.slot[l.Var]
		for v := int64(0); v < m.rsize[ls]; v++ {
			m.vals[ls] = v
			m.vec = -1
			if l.Until.Op.Holds(until.eval(m, 0), 0) {
				break
			}
			for _, be := range c.Einsums[i : i+body] {
				if be.Loop != l {
					return nil, fmt.Errorf("%s: iterate block is not consecutive in the cascade", be.Pos)
				}
				if err := m.exec(stmts[be]); err != nil {
					return nil, err
				}
			}
		}
		i += body
	}
	if err := m.checkDefined(); err != nil {
		return nil, err
	}
	out := make(map[string]*tensor.Dense, len(c.Tensors))
	for t, ts := range m.tensors {
		out[t.Name] = ts.d
	}
	return out, nil
}

// machine is the state of one run.
type machine struct {
	c       *einsum.Cascade
	sizes   map[string]int64
	f32     bool
	tensors map[*einsum.Tensor]*tstate
	slot    map[*einsum.Rank]int
	rsize   []int64 // by slot
	vals    []int64 // current value of each variable, by slot

	// Per-vector evaluation state.
	n      int    // vector length
	vec    int    // slot of the vector variable, -1 for none
	masked bool   // valid holds meaningful data (else every element is valid)
	none   bool   // no element is valid
	valid  []byte // elements that are admitted by the filters and read defined data
	fvalid []byte // elements admitted by the filters (nil when all)
	fbuf   []byte
	err    error
}

// tstate is a tensor during a run.
type tstate struct {
	t       *einsum.Tensor
	d       *tensor.Dense
	strides []int
	mask    []byte // 1 where defined; nil for inputs
	ndef    int
	full    bool // every point defined: reads need no mask
}

func (m *machine) fail(format string, args ...any) {
	if m.err == nil {
		m.err = fmt.Errorf(format, args...)
	}
}

// invalidate marks element k as not contributing.
func (m *machine) invalidate(k int) {
	if !m.masked {
		v := m.valid[:m.n]
		for i := range v {
			v[i] = 1
		}
		m.masked = true
	}
	m.valid[k] = 0
}

// affine is an index expression with sizes bound.
type affine struct {
	c     int64
	slots []int
	coefs []int64
}

func (m *machine) compileAffine(a einsum.Affine) (affine, error) {
	var out affine
	var err error
	if out.c, err = a.Const.Eval(m.sizes); err != nil {
		return out, err
	}
	for _, t := range a.Terms {
		k, err := t.Coef.Eval(m.sizes)
		if err != nil {
			return out, err
		}
		s, ok := m.slot[t.Var]
		if !ok {
			return out, fmt.Errorf("rank %s is not a rank of cascade %s", t.Var.Name, m.c.Name)
		}
		out.add(s, k)
	}
	return out, nil
}

func (a *affine) add(slot int, k int64) {
	for i, s := range a.slots {
		if s == slot {
			a.coefs[i] += k
			return
		}
	}
	a.slots = append(a.slots, slot)
	a.coefs = append(a.coefs, k)
}

// eval is the value at the current point, with the vector variable at k.
func (a *affine) eval(m *machine, k int64) int64 {
	v := a.c
	for i, s := range a.slots {
		if s == m.vec {
			v += a.coefs[i] * k
		} else {
			v += a.coefs[i] * m.vals[s]
		}
	}
	return v
}

// split returns the value with the vector variable at 0 and its coefficient.
func (a *affine) split(m *machine) (base, step int64) {
	base = a.c
	for i, s := range a.slots {
		if s == m.vec {
			step += a.coefs[i]
		} else {
			base += a.coefs[i] * m.vals[s]
		}
	}
	return base, step
}

func (m *machine) compileCond(c einsum.Cond) (affine, error) {
	l, err := m.compileAffine(c.L)
	if err != nil {
		return l, fmt.Errorf("%s: %v", c.Pos, err)
	}
	r, err := m.compileAffine(c.R)
	if err != nil {
		return l, fmt.Errorf("%s: %v", c.Pos, err)
	}
	l.c -= r.c
	for i, s := range r.slots {
		l.add(s, -r.coefs[i])
	}
	return l, nil
}

// access is a compiled tensor access.
type access struct {
	a    *einsum.Access
	ts   *tstate
	dims []affine
	ext  []int64
	// Scratch for one vector: per-dimension index at k = 0 and step.
	base, step []int64
}

func (m *machine) compileAccess(a *einsum.Access) (*access, error) {
	ts := m.tensors[a.Tensor]
	if ts == nil {
		return nil, fmt.Errorf("%s: tensor %s is not part of cascade %s", a.Pos, a.Tensor.Name, m.c.Name)
	}
	if len(a.Index) != len(ts.d.Shape) {
		return nil, fmt.Errorf("%s: %s has %d dimensions, indexed with %d", a.Pos, a.Tensor.Name, len(ts.d.Shape), len(a.Index))
	}
	ac := &access{a: a, ts: ts, base: make([]int64, len(a.Index)), step: make([]int64, len(a.Index))}
	for i, x := range a.Index {
		af, err := m.compileAffine(x)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", a.Pos, err)
		}
		ac.dims = append(ac.dims, af)
		ac.ext = append(ac.ext, int64(ts.d.Shape[i]))
	}
	return ac, nil
}

// dependsOn reports whether the access varies with the slot.
func (ac *access) dependsOn(slot int) bool {
	for _, d := range ac.dims {
		for i, s := range d.slots {
			if s == slot && d.coefs[i] != 0 {
				return true
			}
		}
	}
	return false
}

// stride is the flat-offset step of the access per unit of slot.
func (ac *access) stride(slot int) int64 {
	var st int64
	for di, d := range ac.dims {
		for i, s := range d.slots {
			if s == slot {
				st += d.coefs[i] * int64(ac.ts.strides[di])
			}
		}
	}
	return st
}

// locate computes the flat offset at k = 0 and its step over the vector.
// inRange is false when some element of the vector falls outside the
// tensor; the caller then goes element by element.
func (m *machine) locate(ac *access, n int) (base, step int, inRange bool) {
	inRange = true
	var b, s int64
	for di := range ac.dims {
		x0, dx := ac.dims[di].split(m)
		ac.base[di], ac.step[di] = x0, dx
		last := x0 + dx*int64(n-1)
		if x0 < 0 || x0 >= ac.ext[di] || last < 0 || last >= ac.ext[di] {
			inRange = false
		}
		st := int64(ac.ts.strides[di])
		b += x0 * st
		s += dx * st
	}
	return int(b), int(s), inRange
}

// offsetAt is the flat offset of element k, or false outside the tensor.
func (ac *access) offsetAt(k int) (int, bool) {
	off := 0
	for di := range ac.dims {
		x := ac.base[di] + ac.step[di]*int64(k)
		if x < 0 || x >= ac.ext[di] {
			return 0, false
		}
		off += int(x) * ac.ts.strides[di]
	}
	return off, true
}

// point is the multi-index of element k, for messages.
func (ac *access) point(k int) string {
	s := make([]string, len(ac.dims))
	for di := range ac.dims {
		s[di] = fmt.Sprint(ac.base[di] + ac.step[di]*int64(k))
	}
	return ac.ts.t.Name + "[" + strings.Join(s, ", ") + "]"
}

func (m *machine) outOfRange(ac *access, k int) {
	m.fail("%s: read %s at %s is outside %s's extent %v", ac.a.Pos, ac.a, ac.point(k), ac.ts.t.Name, ac.ts.d.Shape)
}
