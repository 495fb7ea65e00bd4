package reproduce

import (
	"math"
	"strconv"
	"strings"
)

// PyRepr formats x as Python's repr(float) does, so that CSVs written here
// compare byte for byte with the artifact's: the shortest digits that round
// trip, fixed notation for decimal exponents -4 ≤ e < 16 (with ".0" on whole
// numbers), otherwise d.ddde±XX.
func PyRepr(x float64) string {
	switch {
	case math.IsNaN(x):
		return "nan"
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(x, 'e', -1, 64) // shortest round-trip digits, e.g. -1.2345e+06
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expStr, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	var out string
	if exp >= -4 && exp < 16 {
		if exp < 0 {
			out = "0." + strings.Repeat("0", -exp-1) + digits
		} else if len(digits) <= exp+1 {
			out = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
		} else {
			out = digits[:exp+1] + "." + digits[exp+1:]
		}
	} else {
		out = mant + "e"
		if exp < 0 {
			out += "-"
			exp = -exp
		} else {
			out += "+"
		}
		if exp < 10 {
			out += "0"
		}
		out += strconv.Itoa(exp)
	}
	if neg {
		return "-" + out
	}
	return out
}

// PyCount formats a count the way the artifact's Python printed it: an int
// when the value is whole (it was computed with integers), otherwise the
// float's repr (a fractional spill share made it a float).
func PyCount(x float64) string {
	if x == math.Trunc(x) && !math.IsInf(x, 0) {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return PyRepr(x)
}
