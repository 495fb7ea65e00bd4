package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/lower"
	"github.com/fusemax/fusemax/tensor"
)

// selections turns simulate's --input NAME=FILE.npy and --density NAME=D
// flags into what the lowering knows of the tensors c's data-dependent
// filters read. A file is read when the lowering asks for the shape the
// design point gives the tensor (sizes the mapping fixes, such as M0,
// included), its header checked against it before any data is read.
func selections(c *einsum.Cascade, files, densities []string) (map[string]lower.Selection, error) {
	readable := lower.DataFilterTensors(c)
	out := map[string]lower.Selection{}
	if len(files)+len(densities) == 0 {
		return out, nil
	}
	filtered := func(flag, name string) error {
		if slices.Contains(readable, name) {
			return nil
		}
		if len(readable) == 0 {
			return usagef("%s %s: cascade %s has no data-dependent filter, so no tensor's values change its cost", flag, name, c.Name)
		}
		return usagef("%s %s: no data-dependent filter of cascade %s reads %s; the filters read %s", flag, name, c.Name, name, strings.Join(readable, ", "))
	}
	given, err := inputFlags(c, files)
	if err != nil {
		return nil, err
	}
	for _, name := range sortedNames(given) {
		if err := filtered("--input", name); err != nil {
			return nil, err
		}
		out[name] = lower.Selection{Load: npyLoader(c.Tensor(name), given[name]), Source: given[name]}
	}
	for _, spec := range densities {
		name, val, ok := strings.Cut(spec, "=")
		if !ok || name == "" || val == "" {
			return nil, usagef("--density %q is not NAME=D", spec)
		}
		if err := filtered("--density", name); err != nil {
			return nil, err
		}
		d, err := strconv.ParseFloat(val, 64)
		if err != nil || !(d >= 0 && d <= 1) {
			return nil, usagef("--density %s: %q is not a share in [0, 1] of %s's elements that select", spec, val, name)
		}
		if prev, dup := out[name]; dup {
			if prev.Load != nil {
				return nil, usagef("--density %s: %s's values are given with --input %s=%s; give its file or its density, not both", spec, name, name, prev.Source)
			}
			return nil, usagef("--density %s is given twice", name)
		}
		out[name] = lower.Selection{Density: d + 0} // + 0: -0 reads as 0
	}
	return out, nil
}

// npyLoader reads tensor t from path at the shape asked for, once per
// shape (a mapping search lowers many candidates).
func npyLoader(t *einsum.Tensor, path string) func([]int) ([]float64, error) {
	cache := map[string][]float64{}
	return func(shape []int) ([]float64, error) {
		k := fmt.Sprint(shape)
		if v, ok := cache[k]; ok {
			return v, nil
		}
		// The values and the lowering's prefix counts: 16 bytes an element.
		n := int64(1)
		for _, e := range shape {
			n = min(n*int64(max(e, 1)), 1<<62/16)
		}
		if budget, err := memoryBudget(""); err == nil && 16*n > budget {
			return nil, fmt.Errorf("--input %s=%s: %s at shape %v holds %d elements, %s with its analysis, more than the %s of memory available", t.Name, path, t.Name, shape, n, gib(16*n), gib(budget))
		}
		d, err := tensor.LoadNPYChecked(path, shapeCheck(t, shape))
		if err != nil {
			return nil, fmt.Errorf("--input %s=%s: %w", t.Name, path, err)
		}
		cache[k] = d.Data
		return d.Data, nil
	}
}

// selectionLine says, for the report table, how a selection was costed.
func selectionLine(u lower.SelectionUse) string {
	switch u.From {
	case lower.SelectionFromTensor:
		return fmt.Sprintf("%s: from tensor %s (%.4g of its elements select; %.6g per tile)", u.Tensor, u.Source, u.Density, u.ElementsPerTile)
	case lower.SelectionDense:
		return fmt.Sprintf("%s: assumed dense (no --input or --density; see the warning)", u.Tensor)
	}
	return fmt.Sprintf("%s: %s %.4g (a tile reads %.6g elements, so is skipped with probability %.4g)", u.Tensor, u.From, u.Density, u.ElementsPerTile, math.Pow(1-u.Density, u.ElementsPerTile))
}

func gib(b int64) string { return fmt.Sprintf("%.3g GiB", float64(b)/(1<<30)) }
