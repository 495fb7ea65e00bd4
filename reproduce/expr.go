package reproduce

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"strconv"
)

// eval computes an arithmetic expression of an experiment spec, such as
// "B*P" or "p * max(1, 2*max(1, p/E) / (P/p)) * E * 16 * mult": numbers,
// names from vars, + - * / (real division), parentheses, min, max, and
// comparisons (true is 1) for loop conditions. Go's expression grammar
// parses it, so precedence is Go's.
func eval(src string, vars map[string]float64) (float64, error) {
	e, err := parser.ParseExpr(src)
	if err != nil {
		return 0, fmt.Errorf("expression %q: %v", src, err)
	}
	v, err := evalNode(e, vars)
	if err != nil {
		return 0, fmt.Errorf("expression %q: %v", src, err)
	}
	return v, nil
}

func evalNode(e ast.Expr, vars map[string]float64) (float64, error) {
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind != token.INT && x.Kind != token.FLOAT {
			return 0, fmt.Errorf("%s is not a number", x.Value)
		}
		return strconv.ParseFloat(x.Value, 64)
	case *ast.Ident:
		v, ok := vars[x.Name]
		if !ok {
			return 0, fmt.Errorf("unknown name %s (known: %v)", x.Name, sortedKeys(vars))
		}
		return v, nil
	case *ast.ParenExpr:
		return evalNode(x.X, vars)
	case *ast.UnaryExpr:
		v, err := evalNode(x.X, vars)
		if err != nil {
			return 0, err
		}
		switch x.Op {
		case token.SUB:
			return -v, nil
		case token.ADD:
			return v, nil
		}
	case *ast.BinaryExpr:
		a, err := evalNode(x.X, vars)
		if err != nil {
			return 0, err
		}
		b, err := evalNode(x.Y, vars)
		if err != nil {
			return 0, err
		}
		truth := func(c bool) (float64, error) {
			if c {
				return 1, nil
			}
			return 0, nil
		}
		switch x.Op {
		case token.ADD:
			return a + b, nil
		case token.SUB:
			return a - b, nil
		case token.MUL:
			return a * b, nil
		case token.QUO:
			if b == 0 {
				return 0, fmt.Errorf("division by zero")
			}
			return a / b, nil
		case token.GTR:
			return truth(a > b)
		case token.GEQ:
			return truth(a >= b)
		case token.LSS:
			return truth(a < b)
		case token.LEQ:
			return truth(a <= b)
		}
	case *ast.CallExpr:
		f, ok := x.Fun.(*ast.Ident)
		if !ok || (f.Name != "min" && f.Name != "max") || len(x.Args) < 1 {
			break
		}
		out := math.NaN()
		for i, a := range x.Args {
			v, err := evalNode(a, vars)
			if err != nil {
				return 0, err
			}
			if i == 0 || (f.Name == "min" && v < out) || (f.Name == "max" && v > out) {
				out = v
			}
		}
		return out, nil
	}
	return 0, fmt.Errorf("unsupported syntax at offset %d (numbers, names, + - * /, comparisons, min, max)", e.Pos()-1)
}
