package golden

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/fusemax/fusemax/kernels"
)

// Regenerating the golden data must not change a byte: the interpreter and
// the seeded inputs are deterministic, and any change to them shows here.
func TestGoldenIsUpToDate(t *testing.T) {
	tmp := t.TempDir()
	if err := Generate(tmp); err != nil {
		t.Fatal(err)
	}
	for _, c := range Cases() {
		names, _, err := caseNames(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			rel := filepath.Join(c.Dir(), n+".npy")
			want, err := os.ReadFile(rel)
			if err != nil {
				t.Errorf("%s: %v (run make golden)", rel, err)
				continue
			}
			got, _ := os.ReadFile(filepath.Join(tmp, rel))
			if !bytes.Equal(got, want) {
				t.Errorf("%s: regenerating changes it (run make golden and explain the change in the commit)", rel)
			}
		}
	}
}

// Every built-in kernel has golden data at two shapes or more.
func TestEveryKernelHasGoldenData(t *testing.T) {
	count := map[string]int{}
	for _, c := range Cases() {
		count[c.Kernel]++
	}
	for _, k := range kernels.Names() {
		if count[k] < 2 {
			t.Errorf("kernel %s has %d golden shapes, want 2 or more", k, count[k])
		}
	}
}
