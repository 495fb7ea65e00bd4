package reproduce

import (
	"strings"
	"testing"
)

func TestLoadShippedExperiment(t *testing.T) {
	x, err := LoadExperiment("fusemax-micro24")
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Workloads) != 4 || len(x.Seqs) != 6 || len(x.Attention) != 5 || len(x.Layers) != 6 || x.Pareto == nil {
		t.Fatalf("unexpected experiment: %+v", x)
	}
	if x.Seqs[5].N != 1<<20 || x.Pareto.Seq.N != 256<<10 {
		t.Errorf("sizes: %+v %+v", x.Seqs[5], x.Pareto.Seq)
	}
}

func TestParseExperimentErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"experiment: x\n", `missing "attention"`},
		{"experiment: x\nworkloads: [BERT]\nseq: [1K]\nattention: {configs: [{name: a, label: A, config: c, csv: a.csv}]}\nheadline: {baseline: a, proposal: b, normalise_to: a}\n", `"b", which is not an attention config`},
		{"experiment: x\nworkloads: [GPT]\n", `unknown workload "GPT"`},
		{"experiment: x\nbogus: 1\n", `unknown key "bogus"`},
		{"experiment: x\nworkloads: [BERT]\nseq: [1Q]\n", `sequence length "1Q"`},
	} {
		_, err := ParseExperiment("x.yaml", []byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.src, err, c.want)
		}
	}
}

func TestEval(t *testing.T) {
	vars := map[string]float64{"p": 512, "E": 64, "seq": 262144, "mult": 1}
	for _, c := range []struct {
		src  string
		want float64
	}{
		{"p * max(1, 2*max(1, p/E) / (seq/p)) * E * 8 * 2 * mult", 524288},
		{"min(3, 2, 5) - -1", 3},
		{"p > E", 1},
		{"(p + E) / 2", 288},
	} {
		got, err := eval(c.src, vars)
		if err != nil || got != c.want {
			t.Errorf("eval(%q) = %v, %v; want %v", c.src, got, err, c.want)
		}
	}
	for _, bad := range []string{"q + 1", "p % 2", "f(1)", "p / 0", `"x"`} {
		if _, err := eval(bad, vars); err == nil {
			t.Errorf("eval(%q) succeeded", bad)
		}
	}
}
