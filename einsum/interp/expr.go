package interp

import (
	"bytes"
	"fmt"
	"math"

	"github.com/fusemax/fusemax/einsum"
)

// node is a compiled expression. A node that does not depend on the vector
// variable is evaluated once per vector as a scalar (s); one that does fills
// or returns a slice of m.n elements (v), which may alias tensor storage and
// must not be written by the caller.
type node struct {
	dep bool
	s   func() float64
	v   func() []float64
	// Set for a product, so that a sum can fuse the multiply into its
	// accumulation.
	mul    bool
	mx, my *node
}

func r32(x float64) float64 { return float64(float32(x)) }

func round32(v []float64) {
	for i, x := range v {
		v[i] = float64(float32(x))
	}
}

func (m *machine) compileExpr(x einsum.Expr, maxN int) (*node, error) {
	switch x := x.(type) {
	case *einsum.Const:
		v := x.Value
		if m.f32 {
			v = r32(v)
		}
		return &node{s: func() float64 { return v }}, nil
	case *einsum.SizeValue:
		sz, ok := m.sizes[x.Rank.Name]
		if !ok {
			return nil, fmt.Errorf("%s: size %s is not bound", x.Pos, x.Rank.Name)
		}
		v := float64(sz)
		if m.f32 {
			v = r32(v)
		}
		return &node{s: func() float64 { return v }}, nil
	case *einsum.IndexValue:
		return m.compileIndexValue(x, maxN)
	case *einsum.Read:
		return m.compileRead(x.Access, maxN)
	case *einsum.Unary:
		a, err := m.compileExpr(x.X, maxN)
		if err != nil {
			return nil, err
		}
		return m.unary(x.Op, a, maxN), nil
	case *einsum.Binary:
		a, err := m.compileExpr(x.X, maxN)
		if err != nil {
			return nil, err
		}
		b, err := m.compileExpr(x.Y, maxN)
		if err != nil {
			return nil, err
		}
		return m.binary(x.Op, a, b, maxN), nil
	case nil:
		return nil, fmt.Errorf("missing expression")
	}
	return nil, fmt.Errorf("%s: unknown expression node %T", x.At(), x)
}

func (m *machine) compileRead(a *einsum.Access, maxN int) (*node, error) {
	ac, err := m.compileAccess(a)
	if err != nil {
		return nil, err
	}
	ts := ac.ts
	if m.vec < 0 || !ac.dependsOn(m.vec) {
		return &node{s: func() float64 {
			// A scalar read happens at every element of the vector.
			base, _, ok := m.locate(ac, 1)
			if !ok {
				if m.fvalid == nil || bytes.IndexByte(m.fvalid[:m.n], 1) >= 0 {
					m.outOfRange(ac, 0)
				}
				m.none = true
				return 0
			}
			if !ts.full && ts.mask[base] == 0 {
				m.none = true
			}
			return ts.d.Data[base]
		}}, nil
	}
	buf := make([]float64, maxN)
	return &node{dep: true, v: func() []float64 {
		n := m.n
		base, step, ok := m.locate(ac, n)
		data := ts.d.Data
		if !ok {
			// Partly outside: only elements the filters admit must be in range.
			out := buf[:n]
			for k := range out {
				off, in := ac.offsetAt(k)
				switch {
				case in:
					out[k] = data[off]
					if !ts.full && ts.mask[off] == 0 {
						m.invalidate(k)
					}
				case m.fvalid != nil && m.fvalid[k] == 0:
					out[k] = 0
					m.invalidate(k)
				default:
					m.outOfRange(ac, k)
					out[k] = 0
					m.invalidate(k)
				}
			}
			return out
		}
		if !ts.full {
			mask := ts.mask
			if step == 1 {
				run := mask[base : base+n]
				if bytes.IndexByte(run, 0) >= 0 {
					for k, d := range run {
						if d == 0 {
							m.invalidate(k)
						}
					}
				}
			} else {
				for k, off := 0, base; k < n; k, off = k+1, off+step {
					if mask[off] == 0 {
						m.invalidate(k)
					}
				}
			}
		}
		if step == 1 {
			return data[base : base+n : base+n]
		}
		out := buf[:n]
		for k, off := 0, base; k < n; k, off = k+1, off+step {
			out[k] = data[off]
		}
		return out
	}}, nil
}

func (m *machine) unary(op einsum.UnaryOp, a *node, maxN int) *node {
	f32 := m.f32
	if !a.dep {
		return &node{s: func() float64 {
			v := op.Apply(a.s())
			if f32 {
				v = r32(v)
			}
			return v
		}}
	}
	buf := make([]float64, maxN)
	var loop func(out, x []float64)
	switch op {
	case einsum.Neg:
		loop = func(out, x []float64) {
			for i, v := range x {
				out[i] = -v
			}
		}
	case einsum.Exp:
		loop = func(out, x []float64) {
			for i, v := range x {
				out[i] = math.Exp(v)
			}
		}
	default:
		loop = func(out, x []float64) {
			for i, v := range x {
				out[i] = op.Apply(v)
			}
		}
	}
	return &node{dep: true, v: func() []float64 {
		x := a.v()
		out := buf[:len(x)]
		loop(out, x)
		if f32 {
			round32(out)
		}
		return out
	}}
}

func (m *machine) binary(op einsum.BinaryOp, a, b *node, maxN int) *node {
	f32 := m.f32
	if !a.dep && !b.dep {
		return &node{s: func() float64 {
			x := a.s()
			y := b.s()
			v := op.Apply(x, y)
			if f32 {
				v = r32(v)
			}
			return v
		}}
	}
	buf := make([]float64, maxN)
	var vv func(out, x, y []float64)
	var vs func(out, x []float64, y float64)
	var sv func(out []float64, x float64, y []float64)
	switch op {
	case einsum.Add:
		vv = func(out, x, y []float64) {
			y = y[:len(x)]
			for i := range x {
				out[i] = x[i] + y[i]
			}
		}
		vs = func(out, x []float64, y float64) {
			for i, v := range x {
				out[i] = v + y
			}
		}
		sv = func(out []float64, x float64, y []float64) {
			for i, v := range y {
				out[i] = x + v
			}
		}
	case einsum.Sub:
		// -inf - -inf is -inf (einsum.Difference): the branch is taken only
		// where IEEE gives NaN.
		vv = func(out, x, y []float64) {
			y = y[:len(x)]
			for i := range x {
				if out[i] = x[i] - y[i]; out[i] != out[i] {
					out[i] = einsum.Difference(x[i], y[i])
				}
			}
		}
		vs = func(out, x []float64, y float64) {
			for i, v := range x {
				if out[i] = v - y; out[i] != out[i] {
					out[i] = einsum.Difference(v, y)
				}
			}
		}
		sv = func(out []float64, x float64, y []float64) {
			for i, v := range y {
				if out[i] = x - v; out[i] != out[i] {
					out[i] = einsum.Difference(x, v)
				}
			}
		}
	case einsum.Mul:
		vv = func(out, x, y []float64) {
			y = y[:len(x)]
			for i := range x {
				out[i] = x[i] * y[i]
			}
		}
		vs = func(out, x []float64, y float64) {
			for i, v := range x {
				out[i] = v * y
			}
		}
		sv = func(out []float64, x float64, y []float64) {
			for i, v := range y {
				out[i] = x * v
			}
		}
	case einsum.Div:
		vv = func(out, x, y []float64) {
			y = y[:len(x)]
			for i := range x {
				out[i] = x[i] / y[i]
			}
		}
		vs = func(out, x []float64, y float64) {
			for i, v := range x {
				out[i] = v / y
			}
		}
		sv = func(out []float64, x float64, y []float64) {
			for i, v := range y {
				out[i] = x / v
			}
		}
	default:
		vv = func(out, x, y []float64) {
			for i := range x {
				out[i] = op.Apply(x[i], y[i])
			}
		}
		vs = func(out, x []float64, y float64) {
			for i, v := range x {
				out[i] = op.Apply(v, y)
			}
		}
		sv = func(out []float64, x float64, y []float64) {
			for i, v := range y {
				out[i] = op.Apply(x, v)
			}
		}
	}
	nd := &node{dep: true, mul: op == einsum.Mul, mx: a, my: b}
	switch {
	case a.dep && b.dep:
		nd.v = func() []float64 {
			x := a.v()
			y := b.v()
			out := buf[:len(x)]
			vv(out, x, y)
			if f32 {
				round32(out)
			}
			return out
		}
	case a.dep:
		nd.v = func() []float64 {
			x := a.v()
			y := b.s()
			out := buf[:len(x)]
			vs(out, x, y)
			if f32 {
				round32(out)
			}
			return out
		}
	default:
		nd.v = func() []float64 {
			x := a.s()
			y := b.v()
			out := buf[:len(y)]
			sv(out, x, y)
			if f32 {
				round32(out)
			}
			return out
		}
	}
	return nd
}

// compileIndexValue is a variable's position as a value: a scalar, or
// 0, 1, … along the vector when it is the vector variable.
func (m *machine) compileIndexValue(x *einsum.IndexValue, maxN int) (*node, error) {
	slot, ok := m.slot[x.Rank]
	if !ok {
		return nil, fmt.Errorf("%s: rank %s is not a rank of cascade %s", x.Pos, x.Rank.Name, m.c.Name)
	}
	f32 := m.f32
	value := func(v int64) float64 {
		if f32 {
			return r32(float64(v))
		}
		return float64(v)
	}
	if slot != m.vec {
		return &node{s: func() float64 { return value(m.vals[slot]) }}, nil
	}
	buf := make([]float64, maxN)
	return &node{dep: true, v: func() []float64 {
		out := buf[:m.n]
		for k := range out {
			out[k] = value(int64(k))
		}
		return out
	}}, nil
}
