package einsum

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Bind turns a workload shape (rank name → size) into the sizes of every
// rank of c, deriving split parts: with split M into M1, M0, any two of M,
// M1 and M0 determine the third. It returns the names in shape that c does
// not use, sorted, so that a caller can note them: one shape string may drive
// several kernels.
func (c *Cascade) Bind(shape map[string]int64) (sizes map[string]int64, unused []string, err error) {
	sizes = map[string]int64{}
	for _, r := range c.Ranks {
		if v, ok := shape[r.Name]; ok {
			if v <= 0 {
				return nil, nil, fmt.Errorf("size %s=%d must be positive", r.Name, v)
			}
			sizes[r.Name] = v
		}
	}
	for name := range shape {
		if c.Rank(name) == nil {
			unused = append(unused, name)
		}
	}
	sort.Strings(unused)
	// Splits may nest (M into M1, M0, then M0 into M01, M00); iterate until
	// nothing more can be derived.
	for changed := true; changed; {
		changed = false
		for _, r := range c.Ranks {
			if len(r.Parts) == 0 {
				continue
			}
			d, err := deriveSplit(r, sizes)
			if err != nil {
				return nil, nil, err
			}
			changed = changed || d
		}
	}
	var missing []string
	for _, r := range c.Ranks {
		if _, ok := sizes[r.Name]; !ok {
			missing = append(missing, r.Name)
		}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("cascade %s needs the size of %v (give it with --shape, e.g. %s=64)", c.Name, missing, missing[0])
	}
	return sizes, unused, nil
}

// deriveSplit fills in one missing size of r = Π r.Parts and checks the
// product when all are known.
func deriveSplit(r *Rank, sizes map[string]int64) (bool, error) {
	var unknown *Rank
	prod := int64(1)
	for _, p := range r.Parts {
		v, ok := sizes[p.Name]
		if !ok {
			if unknown != nil {
				return false, nil
			}
			unknown = p
			continue
		}
		prod *= v
	}
	whole, haveWhole := sizes[r.Name]
	switch {
	case unknown == nil && !haveWhole:
		sizes[r.Name] = prod
		return true, nil
	case unknown == nil:
		if prod != whole {
			return false, fmt.Errorf("split of %s: %s=%d is not the product of its parts (%d)", r.Name, r.Name, whole, prod)
		}
		return false, nil
	case haveWhole:
		if whole%prod != 0 {
			return false, fmt.Errorf("split of %s into %s: %d does not divide %s=%d", r.Name, partNames(r), prod, r.Name, whole)
		}
		sizes[unknown.Name] = whole / prod
		return true, nil
	}
	return false, nil
}

func partNames(r *Rank) string {
	s := ""
	for i, p := range r.Parts {
		if i > 0 {
			s += ", "
		}
		s += p.Name
	}
	return s
}

// ParseShape reads a shape string such as "E=64,F=64,M=64K,P=1M,M0=256".
// Sizes may carry the suffix K (×1024) or M (×1024²), as sequence lengths
// are usually written.
func ParseShape(s string) (map[string]int64, error) {
	out := map[string]int64{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
		name, val = strings.TrimSpace(name), strings.TrimSpace(val)
		if !ok || name == "" || val == "" {
			return nil, fmt.Errorf("shape %q: %q is not NAME=SIZE", s, kv)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("shape %q: %s is given twice", s, name)
		}
		n, err := ParseSize(val)
		if err != nil {
			return nil, fmt.Errorf("shape %q: %s: %v", s, name, err)
		}
		out[name] = n
	}
	return out, nil
}

// ParseSize reads a positive size with an optional K or M suffix (binary).
func ParseSize(v string) (int64, error) {
	mult, given := int64(1), v
	switch {
	case strings.HasSuffix(v, "K") || strings.HasSuffix(v, "k"):
		mult, v = 1<<10, v[:len(v)-1]
	case strings.HasSuffix(v, "M"):
		mult, v = 1<<20, v[:len(v)-1]
	}
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(v, "-"), err == nil && n > MaxSize/mult:
		return 0, fmt.Errorf("%q is more than 2^40 (1099511627776), the largest size a shape may give", given)
	case err != nil || n <= 0:
		return 0, fmt.Errorf("%q is not a positive integer size (suffixes K and M allowed)", given)
	}
	return n * mult, nil
}

// MaxSize bounds a rank size: products of a few such sizes stay within
// int64, and no workload is larger.
const MaxSize = 1 << 40

// FormatShape prints sizes as NAME=SIZE pairs sorted by name, the inverse of
// ParseShape; golden data and reports use it as a stable key.
func FormatShape(sizes map[string]int64) string {
	names := make([]string, 0, len(sizes))
	for n := range sizes {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s=%d", n, sizes[n])
	}
	return strings.Join(parts, ",")
}
