package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Without --mapping, simulate derives one, prints it, and --emit-mapping
// saves it; passing the saved file back gives the same numbers.
func TestSimulateDerivedMapping(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "derived.yaml")
	args := []string{"simulate", "attention_3pass", "--arch", "flat-cloud", "--shape", "B=1,H=2,E=64,F=64,M=1024,P=1024"}
	out, errOut, code := run(t, append(args, "-o", "json", "--emit-mapping", file)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var derived struct {
		Latency float64 `json:"latency_s"`
		Derived bool    `json:"mapping_derived"`
		Spec    string  `json:"mapping_spec"`
	}
	if err := json.Unmarshal([]byte(out), &derived); err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(file)
	if err != nil || !derived.Derived || string(saved) != derived.Spec || !strings.Contains(derived.Spec, "einsums:") {
		t.Fatalf("derived %v, saved %q (%v), spec %q", derived.Derived, saved, err, derived.Spec)
	}
	out, errOut, code = run(t, append(args, "-o", "json", "--mapping", file)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var again struct {
		Latency float64 `json:"latency_s"`
	}
	if err := json.Unmarshal([]byte(out), &again); err != nil || again.Latency != derived.Latency {
		t.Errorf("saved mapping: latency %g, derived %g (%v)", again.Latency, derived.Latency, err)
	}
	if _, errOut, code := run(t, append(args, "--objective", "speed")...); code != 2 || !strings.Contains(errOut, "--objective") {
		t.Errorf("bad objective: exit %d, %s", code, errOut)
	}
	table, _, _ := run(t, args...)
	if !strings.Contains(table, "derived: no --mapping given") || !strings.Contains(table, "derived mapping (--emit-mapping FILE saves it):") {
		t.Errorf("the table does not say the mapping was derived:\n%s", table)
	}
}

// A case-slipped shape name is reported (issue 10 item 9), an absurd
// mapping number is rejected at its position before any work (item 3),
// and --print-schedule prints the lowered program.
func TestSimulateShapeAndBounds(t *testing.T) {
	t.Parallel()
	args := []string{"simulate", "attention_1pass", "--arch", "fusemax-cloud", "--mapping", "fusemax-binding", "--shape", "B=1,H=1,E=64,F=64,M=1024,P=1024,m0=128"}
	_, errOut, code := run(t, args...)
	if code != 0 || !strings.Contains(errOut, "did you mean M0?") {
		t.Errorf("m0=128: exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = run(t, append(args, "--set", "mapping.buffers=1000000000000")...)
	if code != 1 || !strings.Contains(errOut, "mapping.buffers = 1000000000000 is more than 64") {
		t.Errorf("huge buffers: exit %d, stderr %q", code, errOut)
	}
	out, _, code := run(t, append(args, "--print-schedule")...)
	if code != 0 || !strings.Contains(out, "einsum QK (matmul) on 2d by einsums.QK") || !strings.Contains(out, "loop m1 ×4") {
		t.Errorf("--print-schedule: exit %d, output %q", code, out)
	}
}
