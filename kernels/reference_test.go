package kernels_test

import (
	"math"
	"sort"

	"github.com/fusemax/fusemax/tensor"
)

func referenceCases() []refCase {
	tile := map[string]int64{"E": 4, "F": 3, "M": 12, "M0": 4, "P": 5}
	flat := map[string]int64{"E": 4, "F": 3, "M": 12, "P": 5}
	with := func(base map[string]int64, kv ...any) map[string]int64 {
		out := map[string]int64{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = int64(kv[i+1].(int))
		}
		return out
	}
	return []refCase{
		{kernel: "ring_merge", shape: map[string]int64{"F": 3, "S": 4, "P": 5}, prepare: shardStats(6, func(s int) bool { return s == 0 }), ref: mergedAttention},
		{kernel: "ring_merge_tree", shape: map[string]int64{"F": 3, "S": 6, "S0": 3, "P": 5}, prepare: shardStats(4, func(s int) bool { return s < 3 }), ref: mergedAttention},
		{kernel: "gqa_attention", shape: with(tile, "H", 4, "G", 2), ref: perHead(func(h int, sz map[string]int64) (int, scoreFn) {
			return h / int(sz["H"]/sz["G"]), plain
		})},
		{kernel: "mqa_attention", shape: with(tile, "H", 3), ref: perHead(func(int, map[string]int64) (int, scoreFn) { return -1, plain })},
		{kernel: "causal_attention_1pass", shape: with(tile, "P", 12), ref: softmaxOf(func(map[string]int64, map[string]*tensor.Dense) scoreFn { return causal })},
		{kernel: "sliding_window_1pass", shape: with(tile, "M", 16, "P", 16, "W", 5), ref: softmaxOf(window)},
		{kernel: "block_sparse_1pass", shape: tile, prepare: checkerboard, ref: softmaxOf(selected)},
		{kernel: "moba_topk", shape: with(tile, "M", 16, "T", 2), ref: softmaxOf(gatedTopK)},
		{kernel: "softcap_attention", shape: tile, ref: softmaxOf(func(map[string]int64, map[string]*tensor.Dense) scoreFn {
			return func(s float64, _, _ int) (float64, bool) { return 50 * math.Tanh(s/50), true }
		})},
		{kernel: "alibi_causal", shape: with(tile, "H", 2, "P", 12), ref: perHead(alibiHead)},
		{kernel: "splitk_decoding", shape: with(tile, "P", 2), ref: softmaxOf(func(map[string]int64, map[string]*tensor.Dense) scoreFn { return plain })},
		{kernel: "sigmoid_attention", shape: flat, ref: sigmoidRef},
		{kernel: "rela_attention", shape: flat, ref: relaRef},
		{kernel: "softplus_attention", shape: flat, ref: softplusRef},
		{kernel: "cog_attention", shape: flat, ref: cogRef},
		{kernel: "linear_attention", shape: flat, ref: linearRef(false)},
		{kernel: "linear_attention_causal", shape: map[string]int64{"E": 4, "F": 3, "P": 9}, ref: linearRef(true)},
		{kernel: "lightning_attention", shape: map[string]int64{"E": 4, "F": 3, "P": 12, "P0": 4, "J": 4}, ref: linearRef(true)},
	}
}

// scoreFn turns q·k of key m and query p into the score softmax sees, and
// says whether the key is kept.
type scoreFn func(qk float64, m, p int) (float64, bool)

func plain(s float64, _, _ int) (float64, bool) { return s, true }

func causal(s float64, m, p int) (float64, bool) { return s, m <= p }

// softmaxRef is softmax attention written plainly: out[f, p] = Σ_m
// exp(s - max_m s)·V[f, m] / Σ_m exp(s - max_m s) over the kept keys.
func softmaxRef(q, k, v *tensor.Dense, score scoreFn) *tensor.Dense {
	M, P := k.Shape[1], q.Shape[1]
	s := make([][]float64, M)
	w := make([][]float64, M)
	keep := make([][]bool, M)
	den := make([]float64, P)
	for m := range s {
		s[m], w[m], keep[m] = make([]float64, P), make([]float64, P), make([]bool, P)
		for p := range P {
			s[m][p], keep[m][p] = score(dot(q, k, p, m), m, p)
		}
	}
	for p := range P {
		mx := negInf
		for m := range M {
			if keep[m][p] {
				mx = math.Max(mx, s[m][p])
			}
		}
		for m := range M {
			if keep[m][p] {
				w[m][p] = math.Exp(s[m][p] - mx)
				den[p] += w[m][p]
			}
		}
	}
	return weighted(v, w, den)
}

func softmaxOf(score func(map[string]int64, map[string]*tensor.Dense) scoreFn) func(map[string]int64, map[string]*tensor.Dense) map[string]*tensor.Dense {
	return func(sz map[string]int64, in map[string]*tensor.Dense) map[string]*tensor.Dense {
		return map[string]*tensor.Dense{"AV": softmaxRef(in["Q"], in["K"], in["V"], score(sz, in))}
	}
}

func window(sz map[string]int64, _ map[string]*tensor.Dense) scoreFn {
	w := int(sz["W"])
	return func(s float64, m, p int) (float64, bool) { return s, m <= p && m > p-w }
}

// checkerboard selects key tile m1 for query p when m1+p is even: every
// query keeps a tile, and odd queries skip the leading one.
func checkerboard(sz map[string]int64, in map[string]*tensor.Dense) {
	sel := in["Sel"]
	for m1 := 0; m1 < sel.Shape[0]; m1++ {
		for p := 0; p < sel.Shape[1]; p++ {
			sel.Set(float64(1-2*((m1+p)%2)), m1, p)
		}
	}
}

func selected(sz map[string]int64, in map[string]*tensor.Dense) scoreFn {
	m0 := int(sz["M0"])
	return func(s float64, m, p int) (float64, bool) { return s, in["Sel"].At(m/m0, p) > 0 }
}

// gatedTopK keeps, for each query, the T key blocks whose mean key has the
// largest dot product with it (MoBA's gate), ties to the lower block.
func gatedTopK(sz map[string]int64, in map[string]*tensor.Dense) scoreFn {
	q, k := in["Q"], in["K"]
	m0, T, M1 := int(sz["M0"]), int(sz["T"]), int(sz["M1"])
	keep := map[[2]int]bool{}
	for p := 0; p < q.Shape[1]; p++ {
		gate := make([]float64, M1)
		order := make([]int, M1)
		for b := range M1 {
			for e := 0; e < q.Shape[0]; e++ {
				var mean float64
				for j := range m0 {
					mean += k.At(e, b*m0+j) / float64(m0)
				}
				gate[b] += q.At(e, p) * mean
			}
			order[b] = b
		}
		sort.SliceStable(order, func(i, j int) bool { return gate[order[i]] > gate[order[j]] })
		for _, b := range order[:T] {
			keep[[2]int{b, p}] = true
		}
	}
	return func(s float64, m, p int) (float64, bool) { return s, keep[[2]int{m / m0, p}] }
}

// head is the h-th head of a tensor [X, H, Y] as [X, Y].
func head(t *tensor.Dense, h int) *tensor.Dense {
	out := tensor.New(t.Shape[0], t.Shape[2])
	for i := 0; i < t.Shape[0]; i++ {
		for j := 0; j < t.Shape[2]; j++ {
			out.Set(t.At(i, h, j), i, j)
		}
	}
	return out
}

// perHead runs softmaxRef per query head h, on the key and value head kv
// (-1: K and V have no head rank) with the head's score function.
func perHead(which func(h int, sz map[string]int64) (kv int, score scoreFn)) func(map[string]int64, map[string]*tensor.Dense) map[string]*tensor.Dense {
	return func(sz map[string]int64, in map[string]*tensor.Dense) map[string]*tensor.Dense {
		H, F, P := int(sz["H"]), int(sz["F"]), int(sz["P"])
		av := tensor.New(F, H, P)
		for h := range H {
			kv, score := which(h, sz)
			k, v := in["K"], in["V"]
			if kv >= 0 {
				k, v = head(k, kv), head(v, kv)
			}
			o := softmaxRef(head(in["Q"], h), k, v, score)
			for f := range F {
				for p := range P {
					av.Set(o.At(f, p), f, h, p)
				}
			}
		}
		return map[string]*tensor.Dense{"AV": av}
	}
}

// alibiHead is ALiBi's causal score with slope 2^(-8(h+1)/H) for head h.
func alibiHead(h int, sz map[string]int64) (int, scoreFn) {
	slope := math.Pow(2, -8*float64(h+1)/float64(sz["H"]))
	return h, func(s float64, m, p int) (float64, bool) { return s - slope*float64(p-m), m <= p }
}

// direct is out[f, p] = Σ_m w(q·k, m, p)·V[f, m] / norm_p, with norm_p the
// sum of n(q·k, m, p) (1 when n is nil).
func direct(in map[string]*tensor.Dense, w, n func(s float64, m, p int) float64) *tensor.Dense {
	q, k, v := in["Q"], in["K"], in["V"]
	M, P := k.Shape[1], q.Shape[1]
	ws := make([][]float64, M)
	norm := make([]float64, P)
	for m := range M {
		ws[m] = make([]float64, P)
		for p := range P {
			s := dot(q, k, p, m)
			ws[m][p] = w(s, m, p)
			if n != nil {
				norm[p] += n(s, m, p)
			}
		}
	}
	if n == nil {
		for p := range norm {
			norm[p] = 1
		}
	}
	return weighted(v, ws, norm)
}

func sigmoidRef(sz map[string]int64, in map[string]*tensor.Dense) map[string]*tensor.Dense {
	bias := math.Log(float64(sz["M"]))
	return map[string]*tensor.Dense{"AV": direct(in, func(s float64, _, _ int) float64 { return 1 / (1 + math.Exp(bias-s)) }, nil)}
}

func relaRef(_ map[string]int64, in map[string]*tensor.Dense) map[string]*tensor.Dense {
	o := direct(in, func(s float64, _, _ int) float64 { return math.Max(s, 0) }, nil)
	F, P := o.Shape[0], o.Shape[1]
	for p := range P {
		var ms float64
		for f := range F {
			ms += o.At(f, p) * o.At(f, p) / float64(F)
		}
		for f := range F {
			o.Set(o.At(f, p)/math.Sqrt(ms+1e-6), f, p)
		}
	}
	return map[string]*tensor.Dense{"AV": o}
}

func softplusRef(_ map[string]int64, in map[string]*tensor.Dense) map[string]*tensor.Dense {
	sp := func(s float64, _, _ int) float64 { return math.Log1p(math.Exp(s)) }
	return map[string]*tensor.Dense{"AV": direct(in, sp, sp)}
}

func cogRef(_ map[string]int64, in map[string]*tensor.Dense) map[string]*tensor.Dense {
	// exp(|s|) over its sum is unchanged by the max shift; Go's exp
	// does not overflow at these sizes, so none is needed here.
	n := func(s float64, _, _ int) float64 { return math.Exp(math.Abs(s)) }
	w := func(s float64, m, p int) float64 {
		if s == 0 {
			return 0
		}
		return math.Copysign(n(s, m, p), s)
	}
	return map[string]*tensor.Dense{"AV": direct(in, w, n)}
}

// linearRef is linear attention in its quadratic form, Σ_m phi(q)·phi(k)
// V[f, m] / Σ_m phi(q)·phi(k), over m ≤ p when causal: the function both
// the KV-state and the recurrent and blocked forms compute.
func linearRef(causalMask bool) func(map[string]int64, map[string]*tensor.Dense) map[string]*tensor.Dense {
	phi := func(x float64) float64 {
		if x > 0 {
			return x + 1
		}
		return math.Exp(x)
	}
	return func(_ map[string]int64, in map[string]*tensor.Dense) map[string]*tensor.Dense {
		fq, fk := in["Q"].Clone(), in["K"].Clone()
		for i := range fq.Data {
			fq.Data[i] = phi(fq.Data[i])
		}
		for i := range fk.Data {
			fk.Data[i] = phi(fk.Data[i])
		}
		feat := map[string]*tensor.Dense{"Q": fq, "K": fk, "V": in["V"]}
		w := func(s float64, m, p int) float64 {
			if causalMask && m > p {
				return 0
			}
			return s
		}
		return map[string]*tensor.Dense{"AV": direct(feat, w, w)}
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
// of a real attention over S shards of keysPerShard keys each, the masked
// shards fully masked as a sliding window or a causal shard leaves them
// (max -inf, sums 0: the leading ones need -inf - -inf = -inf), and keeps
// the full attention for the reference in the same map.
func shardStats(keysPerShard int, masked func(s int) bool) func(sz map[string]int64, in map[string]*tensor.Dense) {
	return func(sz map[string]int64, in map[string]*tensor.Dense) {
		S, P, F := int(sz["S"]), int(sz["P"]), int(sz["F"])
		q, k, v := qkv(4, S*keysPerShard, P, F, 7)
		pm, pd, pnv := tensor.New(S, P), tensor.New(S, P), tensor.New(F, S, P)
		for s := 0; s < S; s++ {
			for p := 0; p < P; p++ {
				mx := negInf
				for j := 0; j < keysPerShard && !masked(s); j++ {
					mx = math.Max(mx, dot(q, k, p, s*keysPerShard+j))
				}
				pm.Set(mx, s, p)
				for j := 0; j < keysPerShard && !masked(s); j++ {
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
				if !masked(m / keysPerShard) {
					mx = math.Max(mx, dot(q, k, p, m))
				}
			}
			lm.Data[p] = mx
			for m := range w {
				if w[m] == nil {
					w[m] = make([]float64, P)
				}
				if !masked(m / keysPerShard) {
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
