package passes_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/einsum/passes"
	"github.com/fusemax/fusemax/kernels"
)

// The paper's pass counts for the built-in kernels (CASCADES.md, "Passes").
func TestLibrary(t *testing.T) {
	want := map[string]struct {
		rank    string
		passes  int
		einsums string
	}{
		"attention_3pass":         {"M", 3, "QK:1 GM:1 SN:2 SD:2 A:3 AV:3"},
		"attention_2pass":         {"M", 2, "BK:1 BV:2 RM:1 RD:1 QK:1 LM:1 RM:1 SLD:1 RD:1 A:2 AV:2"},
		"attention_1pass":         {"M", 1, ""},
		"toy_cascade1":            {"K", 2, "Y:1 Z:2"},
		"toy_cascade2":            {"K", 1, "Y:1 X:1 Z:1"},
		"toy_cascade3":            {"K", 1, ""},
		"gemm":                    {"", 1, ""},
		"ring_merge":              {"S", 1, ""},
		"ring_merge_tree":         {"S", 2, ""},
		"gqa_attention":           {"M", 1, ""},
		"mqa_attention":           {"M", 1, ""},
		"causal_attention_1pass":  {"M", 1, ""},
		"sliding_window_1pass":    {"M", 1, ""},
		"block_sparse_1pass":      {"M", 1, ""},
		"moba_topk":               {"M", 2, ""},
		"softcap_attention":       {"M", 1, ""},
		"alibi_causal":            {"M", 1, ""},
		"splitk_decoding":         {"M", 2, ""},
		"sigmoid_attention":       {"", 1, ""},
		"rela_attention":          {"F", 2, ""},
		"softplus_attention":      {"", 1, ""},
		"cog_attention":           {"M", 2, ""},
		"linear_attention":        {"", 1, ""},
		"linear_attention_causal": {"P", 1, ""},
		"lightning_attention":     {"P", 1, ""},
	}
	for _, name := range kernels.Names() {
		w, ok := want[name]
		if !ok {
			t.Errorf("kernel %s has no expected pass count here", name)
			continue
		}
		p, err := kernels.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Cascades {
			r, err := passes.Analyze(c, "")
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			t.Logf("%s: %d passes over %s", c.Name, r.Passes, r.Rank)
			if r.Passes != w.passes || w.rank != "" && r.Rank != w.rank {
				t.Errorf("%s: %d passes over %s; want %d over %s", c.Name, r.Passes, r.Rank, w.passes, w.rank)
			}
			var got []string
			for _, e := range r.Einsums {
				got = append(got, fmt.Sprintf("%s:%d", e.Name, e.Pass))
				if w.passes == 1 && e.Pass != 1 {
					t.Errorf("%s: %s in pass %d", c.Name, e.Name, e.Pass)
				}
			}
			if g := strings.Join(got, " "); w.einsums != "" && g != w.einsums {
				t.Errorf("%s einsums\n got %s\nwant %s", c.Name, g, w.einsums)
			}
			if len(r.Chains) != r.Passes-1 {
				t.Errorf("%s: %d chains for %d passes", c.Name, len(r.Chains), r.Passes)
			}
			if r.Passes == 1 && len(r.Retained) != 0 {
				t.Errorf("%s: one pass but retains %v", c.Name, r.Retained)
			}
		}
	}
}

func TestJSONShape(t *testing.T) {
	c := cascade(t, attention3, "attention_3pass")
	r, err := passes.Analyze(c, "")
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := passes.WriteJSON(&a, r); err != nil {
		t.Fatal(err)
	}
	r2, _ := passes.Analyze(cascade(t, attention3, "attention_3pass"), "")
	if err := passes.WriteJSON(&b, r2); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("JSON differs between two runs")
	}
	var got struct {
		Cascade string `json:"cascade"`
		Rank    string `json:"rank"`
		Passes  int    `json:"passes"`
		Einsums []struct {
			Name string `json:"name"`
			Pass int    `json:"pass"`
		} `json:"einsums"`
		Chains   []map[string]any `json:"chains"`
		Retained []struct {
			Tensor, Size string
		} `json:"retained"`
	}
	dec := json.NewDecoder(&a)
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Cascade != "attention_3pass" || got.Rank != "M" || got.Passes != 3 ||
		len(got.Einsums) != 6 || got.Einsums[0].Name != "QK" || got.Einsums[0].Pass != 1 ||
		got.Einsums[5].Name != "AV" || got.Einsums[5].Pass != 3 {
		t.Errorf("JSON: %+v", got)
	}
	if len(got.Chains) != 2 || len(got.Retained) != 2 || got.Retained[0].Tensor != "QK" || got.Retained[0].Size != "M×P" {
		t.Errorf("JSON chains/retained: %+v", got)
	}
	// Lists are never null, so that consumers need no special case.
	r1, _ := passes.Analyze(cascade(t, attention1, "attention_1pass"), "")
	var one bytes.Buffer
	passes.WriteJSON(&one, r1)
	if strings.Contains(one.String(), "null") {
		t.Errorf("null in JSON:\n%s", one.String())
	}
}

func TestRankChoice(t *testing.T) {
	c := cascade(t, attention3, "attention_3pass")
	if r := passes.DefaultRank(c); r == nil || r.Name != "M" {
		t.Errorf("default rank of Cascade 4: %v", r)
	}
	for rank, n := range map[string]int{"M": 3, "m": 3, "E": 1, "F": 1, "P": 1} {
		r, err := passes.Analyze(c, rank)
		if err != nil || r.Passes != n {
			t.Errorf("rank %s: %v, %v; want %d passes", rank, r, err, n)
		}
	}
	// A split part stands for its root.
	c2 := cascade(t, attention2, "attention_2pass")
	if r, err := passes.Analyze(c2, "M0"); err != nil || r.Rank != "M" || r.Passes != 2 {
		t.Errorf("rank M0: %+v, %v", r, err)
	}
	// Over P, QK's E-reduction and LM's local max change nothing.
	if r, err := passes.Analyze(c2, "P"); err != nil || r.Passes != 1 {
		t.Errorf("rank P: %+v, %v", r, err)
	}
	_, err := passes.Analyze(c, "Z")
	if err == nil || !strings.Contains(err.Error(), `no rank "Z"`) || !strings.Contains(err.Error(), "E, F, M, P") {
		t.Errorf("unknown rank: %v", err)
	}
}

// A recurrence read at a seed index is the seed, not the final value.
func TestSeedReadIsNotFinal(t *testing.T) {
	src := `cascade seed {
  ranks K
  input A[k]
  output Z[k]
  R[0] = 0
  iterate k until k >= K {
    R[k+1] = R[k] + A[k]
  }
  Z[k] = A[k] * R[0] + R[k]
}
`
	r, err := passes.Analyze(cascade(t, src, "seed"), "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Passes != 1 {
		t.Errorf("%d passes, want 1", r.Passes)
	}
	src2 := strings.Replace(src, "R[0] + R[k]", "R[K]", 1)
	r, err = passes.Analyze(cascade(t, src2, "seed"), "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Passes != 2 {
		t.Errorf("reading R[K] while traversing k: %d passes, want 2", r.Passes)
	}
}

func Example() {
	p, err := kernels.Load("attention_3pass")
	if err != nil {
		panic(err)
	}
	r, err := passes.Analyze(p.Cascades[0], "")
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: %d passes over %s\n", r.Cascade, r.Passes, r.Rank)
	for _, c := range r.Chains {
		fmt.Println(c.Text)
	}
	for _, x := range r.Retained {
		fmt.Printf("keep %s (%s) from pass %d to %d, or %s\n", x.Tensor, x.Size, x.From, x.To, x.Else)
	}
	// Output:
	// attention_3pass: 3 passes over M
	// GM reduces all of m in pass 1; SN needs GM and QK[m, p] again → pass 2
	// SD reduces all of m in pass 2; A needs SD and SN[m, p] again → pass 3
	// keep QK (M×P) from pass 1 to 2, or write to memory and re-read, or recompute
	// keep SN (M×P) from pass 2 to 3, or write to memory and re-read, or recompute
}

func TestOwnFinalValueInsideLoop(t *testing.T) {
	src := `cascade a {
  ranks K
  input A[k]
  output Z
  R[0] = 0
  iterate k until k >= K {
    R[k+1] = R[k] + R[K] * A[k]
  }
  Z = R[K]
}
`
	// The checker rejects it now, before the analysis can see it.
	_, err := einsum.Parse("a.fm", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "a.fm:7:21: R reads R[K] inside iterate k") {
		t.Errorf("got %v", err)
	}
}

// FuzzAnalyze checks that the analysis terminates without panicking on any
// cascade the checker accepts, over every rank.
func FuzzAnalyze(f *testing.F) {
	for _, name := range kernels.Names() {
		src, _ := kernels.Source(name)
		f.Add(string(src))
	}
	f.Add(attention2)
	f.Add(toys)
	f.Fuzz(func(t *testing.T, src string) {
		p, err := einsum.Parse("fuzz.einsum", []byte(src))
		if err != nil {
			return
		}
		for _, c := range p.Cascades {
			for _, r := range append([]*einsum.Rank{nil}, c.Ranks...) {
				name := ""
				if r != nil {
					name = r.Name
				}
				rep, err := passes.Analyze(c, name)
				if err != nil {
					continue
				}
				if len(c.Einsums) > 0 && rep.Passes < 1 {
					t.Errorf("%s over %q: %d passes", c.Name, name, rep.Passes)
				}
				var b bytes.Buffer
				if err := passes.WriteJSON(&b, rep); err != nil {
					t.Error(err)
				}
				if err := passes.WriteTable(&b, rep); err != nil {
					t.Error(err)
				}
			}
		}
	})
}

// Split-K decoding's second pass reads only the M1-sized partials, and a
// partial reduction's readers are placed by what they need, not as if they
// read only inputs (the tree merge's GD reads GM).
func TestLevelsAndPlacement(t *testing.T) {
	load := func(name string) *passes.Report {
		p, err := kernels.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := passes.Analyze(p.Cascades[0], "")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := load("splitk_decoding")
	if r.Passes != 2 || passes.RetainedList(r.Retained) != "LSE (M1×P) 1→2, O (F×M1×P) 1→2" {
		t.Errorf("splitk_decoding: %d passes, retained %s", r.Passes, passes.RetainedList(r.Retained))
	}
	levels := map[string]string{}
	for _, l := range r.Levels {
		levels[l.Rank] = fmt.Sprint(l.Passes, " ", passes.RetainedList(l.Retained))
	}
	if levels["M1"] != "2 LSE (M1×P) 1→2, O (F×M1×P) 1→2" || levels["M0"] != "2 QK (M0×P per m1) 1→2" {
		t.Errorf("splitk_decoding levels: %v", levels)
	}
	for _, e := range load("ring_merge_tree").Einsums {
		if e.Name == "GD" && (e.Pass != 1 || strings.Contains(e.Reason, "only inputs")) {
			t.Errorf("ring_merge_tree GD: pass %d, %s", e.Pass, e.Reason)
		}
	}
	if r := load("attention_1pass"); len(r.Levels) != 2 || r.Levels[0].Passes != 1 || r.Levels[1].Passes != 2 {
		t.Errorf("attention_1pass levels: %+v", r.Levels)
	}
}
