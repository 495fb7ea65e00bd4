package lower

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/sim"
	"github.com/fusemax/fusemax/specs"
)

// maxCandidates bounds a mapping search: every candidate is a full
// lowering and simulation (about a millisecond with fast-forward).
const maxCandidates = 256

// SearchAxis is one mapping value a search varies: a spec path and the
// values it tries, in file order.
type SearchAxis struct {
	Path   []string
	Values []*yaml.Node
}

// takeSearch removes the `search` section from a mapping document: a map
// from spec path to the list of values to try.
func takeSearch(d *specs.Doc) ([]SearchAxis, error) {
	n := takeTop(d, "search")
	if n == nil {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, d.Errorf(n, "search must map spec paths to lists of values to try")
	}
	var axes []SearchAxis
	total := 1
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
			return nil, d.Errorf(v, "search.%s must be a non-empty list of values to try", k.Value)
		}
		axes = append(axes, SearchAxis{Path: strings.Split(k.Value, "."), Values: v.Content})
		total *= len(v.Content)
		if total > maxCandidates {
			return nil, d.Errorf(k, "search tries more than %d mappings; narrow its lists", maxCandidates)
		}
	}
	return axes, nil
}

// Simulate lowers and runs one design point. A mapping with a search
// section is a family of mappings: every combination of its values is
// lowered and simulated, combinations the machine cannot hold are pruned,
// and the one with the least energy-delay product wins (the first on a
// tie, so the result is deterministic); the report names the choice.
func Simulate(c *einsum.Cascade, a *arch.Spec, m *Mapping, shape map[string]int64, opt Options, so sim.Options) (*Report, error) {
	if _, err := LoadProfile(opt.EnergyProfile); err != nil {
		return nil, err // before a search, which would blame its first choice
	}
	if opt.Objective != "" && !slices.Contains(Objectives(), opt.Objective) {
		return nil, fmt.Errorf("unknown objective %q (known: %s)", opt.Objective, strings.Join(Objectives(), ", "))
	}
	if opt.selCache == nil {
		opt.selCache = map[string]*selData{} // a selection is read and analysed once for every candidate
	}
	if len(m.Search) == 0 {
		r, err := simulateOne(c, a, m, shape, opt, so)
		if err == nil && m.Derived {
			r.MappingDerived, r.MappingSpec, err = true, m.text(), nil
		}
		return r, err
	}
	var best *Report
	var bestIdx []int
	var firstErr error
	idx := make([]int, len(m.Search))
	for {
		choice, err := m.choose(idx)
		if err != nil {
			return nil, err
		}
		cand, err := decodeMapping(m.doc)
		if err != nil {
			return nil, err
		}
		cand.Variant = m.Variant
		r, err := simulateOne(c, a, cand, shape, opt, so)
		var selErr *SelectionError
		switch {
		case errors.As(err, &selErr):
			return nil, err // the same for every candidate: not a mapping's infeasibility
		case err != nil:
			if firstErr == nil {
				firstErr = fmt.Errorf("%s (search choice %s)", err, strings.Join(choice, ", "))
			}
		case best == nil || cost(opt.Objective, r) < cost(opt.Objective, best):
			r.Searched = choice
			best, bestIdx = r, slices.Clone(idx)
		}
		if !m.nextChoice(idx) {
			break
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%s: no mapping of the search is feasible; the first: %v", m.File, firstErr)
	}
	if m.Derived {
		for i, ax := range m.Search {
			if err := m.doc.Replace(ax.Path, ax.Values[bestIdx[i]]); err != nil {
				return nil, err
			}
		}
		best.MappingDerived, best.MappingSpec = true, m.text()
	}
	return best, nil
}

// text is the mapping document as YAML, with whatever a search chose.
func (m *Mapping) text() string {
	b, err := yaml.Marshal(m.doc.Root)
	if err != nil {
		return fmt.Sprintf("# cannot print the mapping: %v\n", err)
	}
	return string(b)
}

func nodeText(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	var parts []string
	for _, c := range n.Content {
		parts = append(parts, nodeText(c))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// choose writes the search's values at idx into the mapping document and
// names them (path=value).
func (m *Mapping) choose(idx []int) ([]string, error) {
	var choice []string
	for i, ax := range m.Search {
		v := ax.Values[idx[i]]
		if err := m.doc.Replace(ax.Path, v); err != nil {
			return nil, m.doc.Errorf(v, "search: %v", err)
		}
		choice = append(choice, strings.Join(ax.Path, ".")+"="+nodeText(v))
	}
	return choice, nil
}

// nextChoice advances idx to the search's next combination, the last axis
// fastest; false after the last.
func (m *Mapping) nextChoice(idx []int) bool {
	for i := len(idx) - 1; i >= 0; i-- {
		idx[i]++
		if idx[i] < len(m.Search[i].Values) {
			return true
		}
		idx[i] = 0
	}
	return false
}
