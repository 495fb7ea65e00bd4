package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSimulateSystem(t *testing.T) {
	t.Parallel()
	out, errOut, code := run(t, "simulate", "attention_1pass", "--system", "8xa100-nvlink", "--mapping", "ring",
		"--shape", "B=1,H=32,E=128,F=128,M=65536,P=65536", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"latency_s", "exposed_communication_s", "link_utilization", "speedup_over_one_device", "per_device"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("JSON lacks %s", k)
		}
	}
	dev := rep["per_device"].([]any)[0].(map[string]any)
	for _, k := range []string{"compute_s", "communication_s", "memory_bytes"} {
		if v, ok := dev[k].(float64); !ok || v <= 0 {
			t.Errorf("per_device[0].%s = %v", k, dev[k])
		}
	}
	table, _, code := run(t, "simulate", "attention_1pass", "--system", "8xh100-nvlink", "--mapping", "tree", "--shape", "B=1,H=32,E=128,F=128,M=1M,P=1")
	if code != 0 || !strings.Contains(table, "3 steps") {
		t.Errorf("tree table (exit %d):\n%s", code, table)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--system", "nope", "--mapping", "ring", "--shape", "M=8,P=8"}, 1, "no system spec"},
		{[]string{"--system", "8xa100-nvlink", "--mapping", "ring"}, 2, "needs a kernel"},
		{[]string{"--system", "8xa100-nvlink", "--mapping", "ring", "--shape", "B=1,H=32,E=128,F=128,M=8,P=8", "--set", "arch.x=1"}, 2, "system.PATH=VALUE"},
		{[]string{"--system", "8xa100-nvlink", "--mapping", "ring", "--shape", "B=1,H=32,E=128,F=128,M=12,P=12"}, 1, "does not divide"},
		{[]string{"--system", "8xa100-nvlink", "--mapping", "ring", "--shape", "B=1,H=32,E=128,F=128,M=8,P=8", "-o", "csv"}, 2, "table or json"},
		{[]string{"--arch", "fusemax-cloud", "--mapping", "ring", "--shape", "M=8,P=8"}, 2, "give the system with --system"},
	} {
		_, errOut, code := run(t, append([]string{"simulate", "attention_1pass"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "goroutine") {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

func TestReproduceSequenceParallel(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sp")
	if _, errOut, code := run(t, "reproduce", "sequence-parallel", "--out", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, f := range []string{"summary.md", "striped.csv", "striped.svg", "ring-block-size.csv", "tree-vs-ring-decode.csv", "ulysses.csv"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}
