package einsum

import (
	"fmt"
	"sort"
	"strings"
)

// Poly is a polynomial with integer coefficients over rank sizes, such as
// M1+1 or M1*M0. Tensor extents and the constant parts of index expressions
// are Polys because sizes are bound only at run time.
//
// The zero value is the polynomial 0. A Poly is immutable once built.
type Poly struct {
	terms map[string]int64 // monomial key ("" for the constant, "M0*M1" sorted) -> coefficient
}

// PolyConst returns the constant polynomial c.
func PolyConst(c int64) Poly {
	if c == 0 {
		return Poly{}
	}
	return Poly{terms: map[string]int64{"": c}}
}

// PolySize returns the polynomial made of the single size symbol name.
func PolySize(name string) Poly { return Poly{terms: map[string]int64{name: 1}} }

func (p Poly) clone() Poly {
	q := Poly{terms: make(map[string]int64, len(p.terms))}
	for k, v := range p.terms {
		q.terms[k] = v
	}
	return q
}

func (p Poly) add(k string, c int64) Poly {
	if p.terms == nil {
		p.terms = map[string]int64{}
	}
	p.terms[k] += c
	if p.terms[k] == 0 {
		delete(p.terms, k)
	}
	return p
}

// Add returns p+q.
func (p Poly) Add(q Poly) Poly {
	r := p.clone()
	for k, v := range q.terms {
		r = r.add(k, v)
	}
	return r
}

// Sub returns p-q.
func (p Poly) Sub(q Poly) Poly { return p.Add(q.Scale(-1)) }

// Scale returns c·p.
func (p Poly) Scale(c int64) Poly {
	r := Poly{}
	for k, v := range p.terms {
		r = r.add(k, v*c)
	}
	return r
}

// Mul returns p·q.
func (p Poly) Mul(q Poly) Poly {
	r := Poly{}
	for k1, v1 := range p.terms {
		for k2, v2 := range q.terms {
			r = r.add(mulKey(k1, k2), v1*v2)
		}
	}
	return r
}

func mulKey(a, b string) string {
	var f []string
	if a != "" {
		f = append(f, strings.Split(a, "*")...)
	}
	if b != "" {
		f = append(f, strings.Split(b, "*")...)
	}
	sort.Strings(f)
	return strings.Join(f, "*")
}

// IsConst reports whether p has no size symbol, and its value.
func (p Poly) IsConst() (int64, bool) {
	for k := range p.terms {
		if k != "" {
			return 0, false
		}
	}
	return p.terms[""], true
}

// IsZero reports whether p is the zero polynomial.
func (p Poly) IsZero() bool { return len(p.terms) == 0 }

// Equal reports whether p and q are the same polynomial.
func (p Poly) Equal(q Poly) bool { return p.Sub(q).IsZero() }

// NonNegative reports whether p ≥ 0 holds for every binding of its sizes to
// positive integers that can be proved from the signs of its coefficients
// alone: each monomial is at least 1, so a polynomial whose non-constant
// coefficients are all non-negative is at least its constant plus their sum.
func (p Poly) NonNegative() bool {
	var low int64
	for k, v := range p.terms {
		if k != "" && v < 0 {
			return false
		}
		low += v
	}
	return low >= 0
}

// Substitute replaces every occurrence of the size name by q.
func (p Poly) Substitute(name string, q Poly) Poly {
	r := Poly{}
	for k, v := range p.terms {
		m := PolyConst(v)
		if k != "" {
			for _, f := range strings.Split(k, "*") {
				if f == name {
					m = m.Mul(q)
				} else {
					m = m.Mul(PolySize(f))
				}
			}
		}
		r = r.Add(m)
	}
	return r
}

// Sizes lists the size symbols p mentions, sorted.
func (p Poly) Sizes() []string {
	seen := map[string]bool{}
	for k := range p.terms {
		if k == "" {
			continue
		}
		for _, f := range strings.Split(k, "*") {
			seen[f] = true
		}
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Eval returns the value of p with the given sizes. A size missing from
// sizes is an error.
func (p Poly) Eval(sizes map[string]int64) (int64, error) {
	var sum int64
	for k, v := range p.terms {
		t := v
		if k != "" {
			for _, f := range strings.Split(k, "*") {
				s, ok := sizes[f]
				if !ok {
					return 0, fmt.Errorf("size %s is not bound", f)
				}
				t *= s
			}
		}
		sum += t
	}
	return sum, nil
}

// MustEval is Eval for sizes known to be complete (a checked cascade bound by
// Bind); it panics on a missing size, which is a bug in the caller.
func (p Poly) MustEval(sizes map[string]int64) int64 {
	v, err := p.Eval(sizes)
	if err != nil {
		panic("einsum: " + err.Error())
	}
	return v
}

// String prints p with the highest-degree monomials first, as M1*M0 + 1,
// using × nowhere so that the text is valid index syntax.
func (p Poly) String() string {
	if len(p.terms) == 0 {
		return "0"
	}
	keys := make([]string, 0, len(p.terms))
	for k := range p.terms {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		di, dj := degree(keys[i]), degree(keys[j])
		if di != dj {
			return di > dj
		}
		return keys[i] < keys[j]
	})
	var b strings.Builder
	for i, k := range keys {
		v := p.terms[k]
		if i > 0 {
			if v < 0 {
				b.WriteString(" - ")
				v = -v
			} else {
				b.WriteString(" + ")
			}
		} else if v < 0 {
			b.WriteString("-")
			v = -v
		}
		switch {
		case k == "":
			fmt.Fprintf(&b, "%d", v)
		case v == 1:
			b.WriteString(k)
		default:
			fmt.Fprintf(&b, "%d*%s", v, k)
		}
	}
	return b.String()
}

func degree(k string) int {
	if k == "" {
		return 0
	}
	return strings.Count(k, "*") + 1
}
