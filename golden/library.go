package golden

import "slices"

// libraryCases are the golden shapes of the attention-variant library: two
// per kernel, small enough that every backend runs them in the test suite,
// each with several tiles or shards and sizes that are not powers of two.
func libraryCases() []Case {
	shapes := map[string][]map[string]int64{
		"ring_merge":      {{"F": 3, "S": 4, "P": 5}, {"F": 8, "S": 7, "P": 16}},
		"ring_merge_tree": {{"F": 3, "S": 6, "S0": 3, "P": 5}, {"F": 8, "S": 8, "S0": 2, "P": 16}},
	}
	var out []Case
	for _, k := range sortedKeys(shapes) {
		for _, s := range shapes[k] {
			out = append(out, Case{k, s})
		}
	}
	return out
}

func sortedKeys(m map[string][]map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
