package einsum

import (
	"fmt"
	"sort"
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
