package lower

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
)

// Messages for mapping values that are well-formed on their own but fail
// once they meet the cascade and the machine: each names the value, says
// what is wrong and what would fix it.

// noneFits is the error for a derived value whose smallest choice (1)
// already overflows the level it must fit.
func (m *Mapping) noneFits(d Derived, smallest float64, lv *arch.Memory) error {
	where := ""
	if lv.CapacityAt != "" {
		where = " (capacity at " + lv.CapacityAt + ")"
	}
	return m.errorAt("derive."+d.Name, true,
		"derive.%s: no %s fits %s: even %s=1 keeps %.0f bytes in %s, which holds %.0f%s; give %s at least %.0f bytes, or tile the other ranks smaller",
		d.Name, d.Name, d.Fits, d.Name, smallest, d.Fits, lv.CapacityBytes, where, d.Fits, smallest)
}

// overCapacity is the error for a mapping whose global-buffer state
// overflows the buffer, at the mapping's tile section (what sizes the
// state) when it has one.
func (m *Mapping) overCapacity(need float64, lv *arch.Memory) error {
	where := ""
	if lv.CapacityAt != "" {
		where = " (capacity at " + lv.CapacityAt + ")"
	}
	return m.errorAt("tile", true, "the mapping keeps %.0f bytes in %s, which holds %.0f%s: tile less, give %s more capacity, or declare a spill fraction (spill: 0.1)",
		need, lv.Name, lv.CapacityBytes, where, lv.Name)
}

// onchipLevels names the levels of a that a derived value can fit.
func onchipLevels(a *arch.Spec) []string {
	var names []string
	for _, lv := range a.Memories {
		if lv.CapacityBytes > 0 {
			names = append(names, lv.Name)
		}
	}
	return names
}

// rankList names the cascade's ranks, for a message about one it lacks.
func rankList(c *einsum.Cascade) string {
	var names []string
	for _, r := range c.Ranks {
		names = append(names, r.Name)
	}
	return strings.Join(names, ", ")
}

// nearDivisors names the divisors of size nearest to t on either side.
func nearDivisors(size, t int64) string {
	var below, above int64 = 1, size
	for _, d := range divisors(size) {
		if d < t {
			below = d
		} else if above == size && d > t {
			above = d
		}
	}
	if below == above {
		return fmt.Sprintf("e.g. %d", below)
	}
	return fmt.Sprintf("nearest: %d or %d", below, above)
}

// knownNames adds to an unknown-name error of a size expression the names
// it could have used.
func (lw *lowering) knownNames(err error) error {
	var se *sizeError
	if !errors.As(err, &se) || se.Name == "" {
		return err
	}
	if lw.c.Rank(se.Name) != nil {
		e := *se
		e.Msg = fmt.Sprintf("%s is a rank of cascade %s whose size is not known yet: sizes are computed from the shape, arch fields and one another, not from what they define (give %s in --shape, or write it from other sizes)", se.Name, lw.c.Name, se.Name)
		return &e
	}
	var names []string
	for _, m := range []map[string]int64{lw.sizes, lw.derived} {
		for k := range m {
			names = append(names, k)
		}
	}
	for _, d := range lw.m.Derive {
		names = append(names, d.Name)
	}
	slices.Sort(names)
	var units []string
	for _, ar := range lw.a.Arrays {
		units = append(units, ar.Name)
	}
	e := *se
	e.Msg = fmt.Sprintf("%s; known sizes here: %s; arrays %s; levels %s", se.Msg,
		strings.Join(slices.Compact(names), ", "), strings.Join(units, ", "), strings.Join(levelNames(lw.a), ", "))
	return &e
}

func levelNames(a *arch.Spec) []string {
	var names []string
	for _, lv := range a.Memories {
		names = append(names, lv.Name)
	}
	return names
}

// bindError is the cascade's error binding the sizes, at the first rank
// size the mapping sets (M0 = 2d.rows): a split that does not divide is
// as much the mapping's doing as the shape's.
func (lw *lowering) bindError(err error) error {
	for _, k := range sortedKeys(lw.m.Sizes) {
		if _, given := lw.shape[k]; given || lw.c.Rank(k) == nil {
			continue
		}
		return lw.m.errorAt("sizes."+k, false, "%v (the mapping sets %s = %s = %d; give a shape this divides, or give %s in --shape)",
			err, k, lw.m.Sizes[k], lw.sizes[k], k)
	}
	return err
}
