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
		return 0, p.fail(p.start, "", "%q: unexpected %q after a complete expression (join terms with + - * /)", src, p.tok)
	}
	return v, nil
}

// sizeError is a problem in a size expression. Off is the byte offset in
// the expression's text of what is wrong, so that a message can point at
// it inside the mapping value; Name is set for a name nothing resolves.
type sizeError struct {
	Off  int
	Name string
	Msg  string
}

func (e *sizeError) Error() string { return e.Msg }

type exprParser struct {
	src    string
	pos    int
	start  int // where tok starts
	tok    string
	lookup func(string) (float64, bool)
}

func (p *exprParser) fail(off int, name, format string, args ...any) error {
	return &sizeError{Off: off, Name: name, Msg: fmt.Sprintf(format, args...)}
}

func (p *exprParser) next() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
	p.start = p.pos
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
		at := p.start
		var w float64
		w, err = p.atom()
		if err != nil {
			break
		}
		if op == "*" {
			v *= w
		} else {
			if w == 0 {
				return 0, p.divisionByZero(at)
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
		return 0, p.fail(p.start, "", "%q ends where a number, a name or ( is expected", p.src)
	case t == "(":
		open := p.start
		p.next()
		v, err := p.sum()
		if err != nil {
			return 0, err
		}
		if p.tok != ")" {
			return 0, p.fail(open, "", "%q: this ( is not closed (missing ))", p.src)
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
	at := p.start
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
				return 0, p.fail(p.start, "", "%q: want , or ) after an argument of %s", p.src, t)
			}
			p.next()
		}
		switch {
		case t == "min" && len(args) == 2:
			return math.Min(args[0], args[1]), nil
		case t == "max" && len(args) == 2:
			return math.Max(args[0], args[1]), nil
		case t == "ceil_div" && len(args) == 2 && args[1] == 0:
			return 0, p.fail(at, "", "%q: ceil_div divides by zero (its second argument is 0)", p.src)
		case t == "ceil_div" && len(args) == 2:
			return math.Ceil(args[0] / args[1]), nil
		}
		return 0, p.fail(at, "", "%q: no function %s of %d arguments (known: min(a, b), max(a, b), ceil_div(a, b))", p.src, t, len(args))
	}
	v, ok := p.lookup(t)
	if !ok {
		return 0, p.fail(at, t, "%q: %s is not a rank, a size, a derived value or an arch field (ARRAY.rows, .cols, .length or .pes; LEVEL.capacity or .width)", p.src, t)
	}
	return v, nil
}

// divisionByZero is the error for a divisor, starting at offset at, that
// evaluates to 0.
func (p *exprParser) divisionByZero(at int) error {
	end := p.start
	if p.tok == "" {
		end = len(p.src)
	}
	div := strings.TrimSpace(p.src[at:end])
	if _, err := strconv.ParseFloat(div, 64); err == nil {
		return p.fail(at, "", "%q divides by zero", p.src)
	}
	return p.fail(at, "", "%q divides by zero: its divisor %s is 0 here", p.src, div)
}

// asCount checks that v is a positive whole number.
func asCount(v float64, src string) (int64, error) {
	if v > 1<<62 {
		return 0, fmt.Errorf("%q is %s, more than 2^62", src, strconv.FormatFloat(v, 'g', -1, 64))
	}
	if v != math.Trunc(v) || v < 1 {
		return 0, fmt.Errorf("%q is %s, not a positive whole number (ceil_div(a, b) rounds a quotient up)", src, strconv.FormatFloat(v, 'g', -1, 64))
	}
	return int64(v), nil
}
