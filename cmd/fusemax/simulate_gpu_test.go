package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// The command, and the fields a user scripts against.
func TestSimulateGPUJSON(t *testing.T) {
	t.Parallel()
	out, stderr, code := run(t, "simulate", "attention_1pass", "--arch", "h100-sxm5-80gb", "--mapping", "fa3",
		"--shape", "B=4,H=16,E=128,F=128,M=8K,P=8K", "--dtype", "fp16", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"latency_s", "tflops", "utilization", "bound_by", "occupancy", "grid"} {
		if _, ok := r[k]; !ok {
			t.Errorf("no %q in %s", k, out)
		}
	}
}

func TestSimulateGPUErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"attention_3pass", "--arch", "a100-sxm4-80gb", "--mapping", "fa2", "--shape", "E=64,F=64,M=1K,P=1K"}, 1, "3 passes"},
		{[]string{"attention_1pass", "--arch", "fusemax-cloud", "--mapping", "fa2", "--shape", "E=64,F=64,M=1K,P=1K"}, 1, "not a GPU spec"},
		{[]string{"attention_1pass", "--arch", "h100-sxm5-80gb", "--mapping", "fusemax-binding", "--shape", "E=64,F=64,M=1K,P=1K"}, 1, "not a GPU mapping"},
		{[]string{"attention_1pass", "--arch", "h100-sxm5-80gb", "--mapping", "fa3", "--shape", "E=64,F=64,M=1K,P=1K", "--dtype", "int4"}, 1, "--dtype"},
		{[]string{"attention_1pass", "--arch", "h100-sxm5-80gb", "--mapping", "fa3", "--shape", "E=64,F=64,M=1K,P=1K", "--set", "mapping.pingpong=sometimes"}, 1, "true or false"},
	} {
		_, stderr, code := run(t, append([]string{"simulate"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "goroutine") {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
}

func TestReproduceFlashAttention(t *testing.T) {
	t.Parallel()
	dir := t.TempDir() + "/fa"
	out, stderr, code := run(t, "reproduce", "flashattention", "--out", dir)
	if code != 0 || !strings.Contains(out, "wrote "+dir) {
		t.Fatalf("exit %d: %s %s", code, out, stderr)
	}
	for _, f := range []string{"flashattention.csv", "flashattention-h100-sxm5-80gb.svg", "summary.md"} {
		if _, err := os.Stat(dir + "/" + f); err != nil {
			t.Error(err)
		}
	}
}
