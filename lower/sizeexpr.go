package lower

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// evalSize evaluates a size expression of a mapping spec, such as
// "P1 * 2d.cols" or "min(256, E)": integers, names resolved by lookup
// (rank sizes, derived values, arch fields like 2d.rows or L3.capacity),
// + - * / and parentheses, and min/max/ceil_div calls.
func evalSize(src string, lookup func(string) (float64, bool)) (float64, error) {
	p := &exprParser{src: src, lookup: lookup}
	p.next()
	v, err := p.sum()
	if err != nil {
		return 0, err
	}
	if p.tok != "" {
		return 0, fmt.Errorf("unexpected %q in %q", p.tok, src)
	}
	return v, nil
}

type exprParser struct {
	src    string
	pos    int
	tok    string
	lookup func(string) (float64, bool)
}

func (p *exprParser) next() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
	if p.pos >= len(p.src) {
		p.tok = ""
		return
	}
	start := p.pos
	c := rune(p.src[p.pos])
	if unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_' || c == '.' {
		for p.pos < len(p.src) {
			c := rune(p.src[p.pos])
			if !(unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_' || c == '.') {
				break
			}
			p.pos++
		}
	} else {
		p.pos++
	}
	p.tok = p.src[start:p.pos]
}

func (p *exprParser) sum() (float64, error) {
	v, err := p.product()
	for err == nil && (p.tok == "+" || p.tok == "-") {
		op := p.tok
		p.next()
		var w float64
		w, err = p.product()
		if op == "+" {
			v += w
		} else {
			v -= w
		}
	}
	return v, err
}

func (p *exprParser) product() (float64, error) {
	v, err := p.atom()
	for err == nil && (p.tok == "*" || p.tok == "/") {
		op := p.tok
		p.next()
		var w float64
		w, err = p.atom()
		if err != nil {
			break
		}
		if op == "*" {
			v *= w
		} else {
			if w == 0 {
				return 0, fmt.Errorf("division by zero in %q", p.src)
			}
			v /= w
		}
	}
	return v, err
}

func (p *exprParser) atom() (float64, error) {
	t := p.tok
	switch {
	case t == "":
		return 0, fmt.Errorf("unexpected end of %q", p.src)
	case t == "(":
		p.next()
		v, err := p.sum()
		if err != nil {
			return 0, err
		}
		if p.tok != ")" {
			return 0, fmt.Errorf("missing ) in %q", p.src)
		}
		p.next()
		return v, nil
	case t == "-":
		p.next()
		v, err := p.atom()
		return -v, err
	case t[0] >= '0' && t[0] <= '9':
		// A name may start with a digit (2d.rows names array 2d).
		if v, err := strconv.ParseFloat(t, 64); err == nil {
			p.next()
			return v, nil
		}
	}
	p.next()
	if p.tok == "(" {
		var args []float64
		p.next()
		for {
			v, err := p.sum()
			if err != nil {
				return 0, err
			}
			args = append(args, v)
			if p.tok == ")" {
				p.next()
				break
			}
			if p.tok != "," {
				return 0, fmt.Errorf("want , or ) after an argument of %s in %q", t, p.src)
			}
			p.next()
		}
		switch {
		case t == "min" && len(args) == 2:
			return math.Min(args[0], args[1]), nil
		case t == "max" && len(args) == 2:
			return math.Max(args[0], args[1]), nil
		case t == "ceil_div" && len(args) == 2 && args[1] != 0:
			return math.Ceil(args[0] / args[1]), nil
		}
		return 0, fmt.Errorf("unknown function %s/%d in %q (known: min, max, ceil_div)", t, len(args), p.src)
	}
	v, ok := p.lookup(t)
	if !ok {
		return 0, fmt.Errorf("unknown name %q in %q", t, p.src)
	}
	return v, nil
}

// asCount checks that v is a positive whole number.
func asCount(v float64, src string) (int64, error) {
	if v != math.Trunc(v) || v < 1 || v > 1<<62 {
		return 0, fmt.Errorf("%q = %s is not a positive whole number", src, strings.TrimRight(strings.TrimRight(fmt.Sprintf("%f", v), "0"), "."))
	}
	return int64(v), nil
}
