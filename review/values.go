package review

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/fusemax/fusemax/workload"
)

// maxValues bounds the values one list or range expands to.
const maxValues = 10000

// ParseList reads the values of one sweep axis: a comma-separated list
// (commas inside brackets belong to a YAML list value such as [Q,K]) whose
// items are values or ranges. A range is LO..HI*F (geometric: LO, LO·F, ...
// up to HI), LO..HI+S (arithmetic) or LO..HI (step 1). Range ends are
// numbers with an optional K, M or G (binary: 1K = 1024) or a unit the spec
// reads (16MiB..64MiB*2); K/M/G-suffixed ranges print their values the same
// way (1K..1M*4 gives 1K, 4K, 16K, 64K, 256K, 1M).
func ParseList(s string) ([]string, error) {
	items, err := splitTop(s)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, it := range items {
		if !strings.Contains(it, "..") {
			out = append(out, it)
		} else {
			vs, err := expandRange(it)
			if err != nil {
				return nil, err
			}
			out = append(out, vs...)
		}
		if len(out) > maxValues {
			return nil, fmt.Errorf("%q expands to more than %d values", s, maxValues)
		}
	}
	return out, nil
}

// ParseLengths is ParseList for sequence lengths.
func ParseLengths(s string) ([]int64, error) {
	vs, err := ParseList(s)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(vs))
	for i, v := range vs {
		if out[i], err = workload.ParseLength(v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// splitTop splits at commas outside brackets and braces.
func splitTop(s string) ([]string, error) {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
		if depth < 0 {
			return nil, fmt.Errorf("%q: unbalanced %q", s, r)
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("%q: unclosed bracket", s)
	}
	out = append(out, s[start:])
	for i, it := range out {
		out[i] = strings.TrimSpace(it)
		if out[i] == "" {
			return nil, fmt.Errorf("%q: empty value in the list", s)
		}
	}
	return out, nil
}

var rangeEnd = regexp.MustCompile(`^([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(.*)$`)

// end is one parsed range end: its value and how it was written.
type end struct {
	v      float64
	suffix bool   // written with K, M or G
	unit   string // a unit after the number, passed through
}

func parseEnd(s, whole string) (end, error) {
	m := rangeEnd.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return end{}, fmt.Errorf("range %q: %q is not a number", whole, s)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return end{}, fmt.Errorf("range %q: %q is not a number", whole, s)
	}
	e := end{v: v, unit: m[2]}
	if k := strings.Index("KMG", e.unit); len(e.unit) == 1 && k >= 0 {
		e.v *= math.Pow(1024, float64(k+1))
		e.suffix, e.unit = true, ""
	}
	return e, nil
}

// expandRange expands LO..HI, LO..HI*F or LO..HI+S.
func expandRange(s string) ([]string, error) {
	lo, rest, _ := strings.Cut(s, "..")
	hi, step, geometric := rest, 1.0, false
	if i := strings.LastIndexAny(rest, "*+"); i > 0 {
		f, err := parseEnd(rest[i+1:], s)
		if err != nil || f.unit != "" {
			return nil, fmt.Errorf("range %q: step %q is not a number", s, rest[i+1:])
		}
		hi, step, geometric = rest[:i], f.v, rest[i] == '*'
	}
	a, err := parseEnd(lo, s)
	if err != nil {
		return nil, err
	}
	b, err := parseEnd(hi, s)
	if err != nil {
		return nil, err
	}
	switch {
	case a.unit != b.unit:
		return nil, fmt.Errorf("range %q: both ends need the same unit", s)
	case a.v > b.v:
		return nil, fmt.Errorf("range %q: the start is above the end", s)
	case geometric && (step <= 1 || a.v <= 0):
		return nil, fmt.Errorf("range %q: a geometric range needs a start above 0 and a factor above 1", s)
	case !geometric && step <= 0:
		return nil, fmt.Errorf("range %q: the step must be above 0", s)
	}
	var out []string
	for x := a.v; x <= b.v*(1+1e-12); {
		out = append(out, formatValue(x, a.suffix && b.suffix)+a.unit)
		if len(out) > maxValues {
			return nil, fmt.Errorf("range %q expands to more than %d values", s, maxValues)
		}
		if geometric {
			x *= step
		} else {
			x += step
		}
	}
	return out, nil
}

func formatValue(x float64, suffix bool) string {
	if suffix && x == math.Trunc(x) && x < 1<<62 {
		n := int64(x)
		switch {
		case n >= 1<<30 && n%(1<<30) == 0:
			return fmt.Sprintf("%dG", n>>30)
		default:
			return workload.FormatLength(n)
		}
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}
