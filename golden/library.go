package golden

import (
	"maps"
	"slices"
)

// libraryCases are the golden shapes of the attention-variant library: two
// per kernel, small enough that every backend runs them in the test suite,
// each with several tiles or shards and sizes that are not powers of two.
func libraryCases() []Case {
	shapes := map[string][]map[string]int64{
		"ring_merge":      {{"F": 3, "S": 4, "P": 5}, {"F": 8, "S": 7, "P": 16}},
		"ring_merge_tree": {{"F": 3, "S": 6, "S0": 3, "P": 5}, {"F": 8, "S": 8, "S0": 2, "P": 16}},
	}
	tiled := []map[string]int64{{"E": 4, "F": 3, "M": 12, "M0": 4, "P": 5}, {"E": 8, "F": 8, "M": 32, "M0": 8, "P": 16}}
	square := []map[string]int64{{"E": 4, "F": 3, "M": 12, "M0": 4, "P": 12}, {"E": 8, "F": 8, "M": 32, "M0": 8, "P": 32}}
	flat := []map[string]int64{{"E": 4, "F": 3, "M": 12, "P": 5}, {"E": 8, "F": 8, "M": 32, "P": 16}}
	for _, k := range []string{"block_sparse_1pass", "softcap_attention", "splitk_decoding"} {
		shapes[k] = tiled
	}
	shapes["causal_attention_1pass"] = square
	for _, k := range []string{"sigmoid_attention", "rela_attention", "softplus_attention", "cog_attention", "linear_attention"} {
		shapes[k] = flat
	}
	shapes["gqa_attention"] = extend(tiled, map[string]int64{"H": 4, "G": 2})
	shapes["mqa_attention"] = extend(tiled, map[string]int64{"H": 3})
	shapes["alibi_causal"] = extend(square, map[string]int64{"H": 2})
	shapes["sliding_window_1pass"] = extend(square, map[string]int64{"W": 5})
	shapes["moba_topk"] = extend(square, map[string]int64{"T": 2})
	shapes["linear_attention_causal"] = []map[string]int64{{"E": 4, "F": 3, "P": 9}, {"E": 8, "F": 8, "P": 32}}
	shapes["lightning_attention"] = []map[string]int64{{"E": 4, "F": 3, "P": 12, "P0": 4, "J": 4}, {"E": 8, "F": 8, "P": 32, "P0": 8, "J": 8}}
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

// extend copies each shape with the sizes of more added.
func extend(shapes []map[string]int64, more map[string]int64) []map[string]int64 {
	var out []map[string]int64
	for _, s := range shapes {
		c := maps.Clone(s)
		maps.Copy(c, more)
		out = append(out, c)
	}
	return out
}
