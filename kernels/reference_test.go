package kernels_test

import (
	"math"

	"github.com/fusemax/fusemax/tensor"
)

func referenceCases() []refCase {
	return []refCase{
		{kernel: "ring_merge", shape: map[string]int64{"F": 3, "S": 4, "P": 5}, prepare: shardStats(6), ref: mergedAttention},
		{kernel: "ring_merge_tree", shape: map[string]int64{"F": 3, "S": 6, "S0": 3, "P": 5}, prepare: shardStats(4), ref: mergedAttention},
	}
}

var negInf = math.Inf(-1)

// qkv draws a query, key and value set of its own (E features, M keys, P
// queries, F value features), from a seed unrelated to the cascades'.
func qkv(e, m, p, f int, seed uint64) (q, k, v *tensor.Dense) {
	q = tensor.Random(seed, "refQ", tensor.UniformDist, e, p)
	k = tensor.Random(seed, "refK", tensor.UniformDist, e, m)
	v = tensor.Random(seed, "refV", tensor.UniformDist, f, m)
	return q, k, v
}

func dot(q, k *tensor.Dense, p, m int) float64 {
	var s float64
	for e := 0; e < q.Shape[0]; e++ {
		s += q.At(e, p) * k.At(e, m)
	}
	return s
}

// weighted is out[f, p] = Σ_m w[m][p]·V[f, m] / norm[p].
func weighted(v *tensor.Dense, w [][]float64, norm []float64) *tensor.Dense {
	F, M, P := v.Shape[0], v.Shape[1], len(norm)
	out := tensor.New(F, P)
	for f := 0; f < F; f++ {
		for p := 0; p < P; p++ {
			var s float64
			for m := 0; m < M; m++ {
				s += w[m][p] * v.At(f, m)
			}
			out.Set(s/norm[p], f, p)
		}
	}
	return out
}

// shardStats replaces the ring-merge inputs with the per-shard statistics
// of a real attention over S shards of keysPerShard keys each (shard 1 fully
// masked, as a sliding window or a causal shard produces: max -inf, sums 0),
// and keeps the full attention for the reference in the same map.
func shardStats(keysPerShard int) func(sz map[string]int64, in map[string]*tensor.Dense) {
	return func(sz map[string]int64, in map[string]*tensor.Dense) {
		S, P, F := int(sz["S"]), int(sz["P"]), int(sz["F"])
		q, k, v := qkv(4, S*keysPerShard, P, F, 7)
		pm, pd, pnv := tensor.New(S, P), tensor.New(S, P), tensor.New(F, S, P)
		for s := 0; s < S; s++ {
			for p := 0; p < P; p++ {
				mx := negInf
				for j := 0; j < keysPerShard && s != 1; j++ {
					mx = math.Max(mx, dot(q, k, p, s*keysPerShard+j))
				}
				pm.Set(mx, s, p)
				for j := 0; j < keysPerShard && s != 1; j++ {
					w := math.Exp(dot(q, k, p, s*keysPerShard+j) - mx)
					pd.Set(pd.At(s, p)+w, s, p)
					for f := 0; f < F; f++ {
						pnv.Set(pnv.At(f, s, p)+w*v.At(f, s*keysPerShard+j), f, s, p)
					}
				}
			}
		}
		in["PM"], in["PD"], in["PNV"] = pm, pd, pnv
		// The reference: softmax attention over every unmasked key.
		w := make([][]float64, S*keysPerShard)
		lm, ld := tensor.New(P), tensor.New(P)
		for p := 0; p < P; p++ {
			mx := negInf
			for m := range w {
				if m/keysPerShard != 1 {
					mx = math.Max(mx, dot(q, k, p, m))
				}
			}
			lm.Data[p] = mx
			for m := range w {
				if w[m] == nil {
					w[m] = make([]float64, P)
				}
				if m/keysPerShard != 1 {
					w[m][p] = math.Exp(dot(q, k, p, m) - mx)
					ld.Data[p] += w[m][p]
				}
			}
		}
		in["refAV"], in["refLM"], in["refLD"] = weighted(v, w, ld.Data), lm, ld
	}
}

func mergedAttention(_ map[string]int64, in map[string]*tensor.Dense) map[string]*tensor.Dense {
	out := map[string]*tensor.Dense{"AV": in["refAV"], "LM": in["refLM"], "LD": in["refLD"]}
	delete(in, "refAV")
	delete(in, "refLM")
	delete(in, "refLD")
	return out
}
