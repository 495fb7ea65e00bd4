package main

import (
	"strings"
	"testing"
)

// TestSimulateWorkloadShape: a workload's D and S (its linear layers) are
// not instances of an attention cascade. Without --mapping (derived) and
// on a GPU, --workload BERT gives what the attention shape gives; before,
// the derived mapping counted D × S = 768 × 3072 times the work and the GPU
// path refused the workload.
func TestSimulateWorkloadShape(t *testing.T) {
	for _, args := range [][]string{
		{"attention_1pass", "--arch", "fusemax-cloud"},
		{"attention_1pass", "--arch", "h100-sxm5-80gb", "--mapping", "fa3"},
	} {
		byModel, errOut, code := run(t, append(append([]string{"simulate"}, args...), "--workload", "BERT", "--seq", "4K", "-o", "json")...)
		if code != 0 {
			t.Fatalf("%v --workload: exit %d: %s", args, code, errOut)
		}
		byShape, errOut, code := run(t, append(append([]string{"simulate"}, args...), "--shape", "B=64,H=12,E=64,F=64,M=4096,P=4096", "-o", "json")...)
		if code != 0 {
			t.Fatalf("%v --shape: exit %d: %s", args, code, errOut)
		}
		if latency(byModel) != latency(byShape) || latency(byModel) == "" {
			t.Errorf("%v: --workload BERT --seq 4K gives latency %s, the attention shape %s", args, latency(byModel), latency(byShape))
		}
	}
}

func latency(jsonOut string) string {
	_, rest, ok := strings.Cut(jsonOut, `"latency_s": `)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, ",")
	return v
}
