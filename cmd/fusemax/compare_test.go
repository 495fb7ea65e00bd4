package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompareCLI(t *testing.T) {
	t.Parallel()
	out, errOut, code := run(t, "compare", "attention_3pass", "attention_1pass", "--arch", "fusemax-cloud,flat-cloud", "--workload", "BERT", "--seq", "1K,64K")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"BERT 1K", "BERT 64K", "attention_1pass @ fusemax-cloud", "speedup", "energy ratio", "util 2d", "bound", "L3 peak", "traffic", "area",
		"mapping derived", "no mapping named: bound by cost, as fusemax simulate does without --mapping"} {
		if !strings.Contains(out, want) {
			t.Errorf("compare output lacks %q:\n%s", want, out)
		}
	}
	html := filepath.Join(t.TempDir(), "r.html")
	out, errOut, code = run(t, "compare", filepath.Join("..", "..", "docs", "reviews", "fusemax-micro24.yaml"), "-o", "json", "--html", html)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Tables []struct{ Rows []struct{ Design string } }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Tables) != 12 || len(doc.Tables[0].Rows) != 5 {
		t.Errorf("JSON: %v, %d tables", err, len(doc.Tables))
	}
	if b, err := os.ReadFile(html); err != nil || !strings.Contains(string(b), `<svg class="chart" id="roofline-0"`) {
		t.Errorf("--html: %v", err)
	}
}

func TestCompareCLIErrors(t *testing.T) {
	t.Parallel()
	bad := writeFile(t, "r.yaml", "designs:\n  - {label: a, config: fusemax-micro24/flat, colour: red}\nworkloads: [BERT]\nseq: 1K\n")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"compare", "--config", "fusemax-micro24/flat", "--workload", "BERT", "--seq", "1K", "-o", "xml"}, 2, "-o must be one of"},
		{[]string{"compare", "--workload", "BERT", "--seq", "1K"}, 2, "name the designs"},
		{[]string{"compare", "attention_1pass", "--workload", "BERT", "--seq", "1K"}, 2, "--arch"},
		{[]string{"compare", "--config", "fusemax-micro24/flat", "--workload", "BERT"}, 2, "--seq"},
		{[]string{"compare", "--config", "fusemax-micro24/flat", "--workload", "BERT", "--seq", "1K..2*2"}, 2, "--seq"},
		{[]string{"compare", bad}, 1, "r.yaml:2:46: designs[0]: unknown key \"colour\""},
		{[]string{"compare", bad, "--config", "x"}, 2, "review file"},
		{[]string{"sweep", bad, "--shape", "B=1"}, 2, "review file"},
		{[]string{"compare", "attention_1pass", "--arch", "fusemax-cloud", "--workload", "BERT", "--seq", "1K", "--set", "mapping.tile.P=64"}, 1, "needs a mapping"},
		{[]string{"compare", "--config", "fusemax-micro24/flat", "--workload", "BERT", "--seq", "1K", "--set", "arch.memory.L3.colour=1"}, 1, "colour"},
	}
	for _, c := range cases {
		_, errOut, code := run(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) || strings.Contains(errOut, "goroutine") {
			t.Errorf("%v: exit %d, stderr %q; want exit %d with %q", c.args, code, errOut, c.code, c.want)
		}
	}
}

// TestSweepShardsCLI: three shards merged by the CLI give the unsharded
// CSV byte for byte; the Pareto front goes to stderr beside a CSV on stdout.
func TestSweepShardsCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	args := []string{"sweep", "--config", "fusemax-micro24/binding,fusemax-micro24/cascade", "--set", "arch.arrays.2d.rows=64,256", "--set", "arch.memory.L3.capacity=1KiB,16MiB", "--workload", "BERT", "--seq", "1K..16K*4"}
	whole, errOut, code := run(t, append(args, "--pareto", "latency,energy")...)
	if code != 0 || !strings.Contains(errOut, "Pareto front per shape") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var shards []string
	for _, s := range []string{"0/3", "1/3", "2/3"} {
		f := filepath.Join(dir, strings.ReplaceAll(s, "/", "-")+".csv")
		if _, errOut, code := run(t, append(args, "--shard", s, "-o", f)...); code != 0 {
			t.Fatalf("shard %s: exit %d: %s", s, code, errOut)
		}
		shards = append(shards, f)
	}
	merged, errOut, code := run(t, append([]string{"sweep", "merge"}, shards...)...)
	if code != 0 || merged != whole {
		t.Errorf("merged shards differ from the single run (exit %d, %s)", code, errOut)
	}
	if _, errOut, code := run(t, "sweep", "merge", shards[0], shards[2]); code != 1 || !strings.Contains(errOut, "point 1 is missing") {
		t.Errorf("merge without a shard: exit %d, %s", code, errOut)
	}
	if _, errOut, code := run(t, append(args, "--shard", "3/3")...); code != 2 || !strings.Contains(errOut, "0 <= I < N") {
		t.Errorf("--shard 3/3: exit %d, %s", code, errOut)
	}
	if _, errOut, code := run(t, append(args, "--html", filepath.Join(dir, "p.html"))...); code != 2 || !strings.Contains(errOut, "--pareto") {
		t.Errorf("--html without --pareto: exit %d, %s", code, errOut)
	}
}

// TestCompareReviewFileDeterministic: the same review file gives
// byte-identical output and HTML report, run twice through the command
// (the GPU review: accelerators and GPUs, points that do not fit included).
func TestCompareReviewFileDeterministic(t *testing.T) {
	file := filepath.Join("..", "..", "docs", "reviews", "fusemax-vs-gpus.yaml")
	var outs, pages [2]string
	for i := range outs {
		html := filepath.Join(t.TempDir(), "r.html")
		out, errOut, code := run(t, "compare", file, "-o", "csv", "--html", html)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		b, err := os.ReadFile(html)
		if err != nil {
			t.Fatal(err)
		}
		outs[i], pages[i] = out, string(b)
	}
	if outs[0] != outs[1] || pages[0] != pages[1] {
		t.Error("two runs of the same review file differ")
	}
	if !strings.Contains(outs[0], "h100-sxm5-80gb,fa3") || !strings.Contains(pages[0], "<title>h200 at 64K:") {
		t.Error("the GPU designs are missing from the CSV or the report")
	}
}
