package multi

import "github.com/fusemax/fusemax/einsum"

// unmasked is a copy of c without its filters. A device's share is timed
// on it: the share's local indices are not the global ones a causal filter
// compares, so this package applies the mask itself (mask.go) and a device
// model must see the dense block. The copy shares ranks, conditions of
// iterate blocks and positions with c; tensors, Einsums, accesses,
// expressions and loops are new, so c is never modified.
func unmasked(c *einsum.Cascade) *einsum.Cascade {
	if !hasFilters(c) {
		return c
	}
	cp := &copier{t: map[*einsum.Tensor]*einsum.Tensor{}, e: map[*einsum.Einsum]*einsum.Einsum{}, l: map[*einsum.Loop]*einsum.Loop{}}
	out := *c
	out.Tensors = cp.tensors(c.Tensors)
	out.Inputs = cp.tensors(c.Inputs)
	out.Outputs = cp.tensors(c.Outputs)
	for _, l := range c.Loops {
		nl := *l
		cp.l[l] = &nl
	}
	out.Einsums = cp.einsums(c.Einsums)
	out.Loops = nil
	for _, l := range c.Loops {
		nl := cp.l[l]
		nl.Body = cp.einsums(l.Body)
		out.Loops = append(out.Loops, nl)
	}
	for old, nt := range cp.t {
		nt.Defs = cp.einsums(old.Defs)
	}
	return &out
}

func hasFilters(c *einsum.Cascade) bool {
	for _, e := range c.Einsums {
		if len(e.Filters) > 0 {
			return true
		}
	}
	return false
}

type copier struct {
	t map[*einsum.Tensor]*einsum.Tensor
	e map[*einsum.Einsum]*einsum.Einsum
	l map[*einsum.Loop]*einsum.Loop
}

func (cp *copier) tensor(t *einsum.Tensor) *einsum.Tensor {
	if nt, ok := cp.t[t]; ok {
		return nt
	}
	nt := *t
	cp.t[t] = &nt
	return &nt
}

func (cp *copier) tensors(ts []*einsum.Tensor) []*einsum.Tensor {
	out := make([]*einsum.Tensor, len(ts))
	for i, t := range ts {
		out[i] = cp.tensor(t)
	}
	return out
}

func (cp *copier) access(a *einsum.Access) *einsum.Access {
	na := *a
	na.Tensor = cp.tensor(a.Tensor)
	return &na
}

func (cp *copier) einsums(es []*einsum.Einsum) []*einsum.Einsum {
	out := make([]*einsum.Einsum, len(es))
	for i, e := range es {
		ne, ok := cp.e[e]
		if !ok {
			c := *e
			c.Filters = nil
			c.Output = cp.access(e.Output)
			c.Expr = cp.expr(e.Expr)
			if e.Loop != nil {
				c.Loop = cp.l[e.Loop]
			}
			ne = &c
			cp.e[e] = ne
		}
		out[i] = ne
	}
	return out
}

func (cp *copier) expr(x einsum.Expr) einsum.Expr {
	switch x := x.(type) {
	case *einsum.Read:
		return &einsum.Read{Access: cp.access(x.Access)}
	case *einsum.Unary:
		n := *x
		n.X = cp.expr(x.X)
		return &n
	case *einsum.Binary:
		n := *x
		n.X, n.Y = cp.expr(x.X), cp.expr(x.Y)
		return &n
	}
	return x // constants and sizes hold no tensor
}
