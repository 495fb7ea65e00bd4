package kernels

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/einsum/syntax"
)

func TestEveryKernelChecks(t *testing.T) {
	for _, want := range []string{"attention_1pass", "attention_2pass", "attention_3pass", "gemm", "ring_merge", "toy_cascade1"} {
		if !slices.Contains(Names(), want) {
			t.Errorf("Names() = %v lacks %s", Names(), want)
		}
	}
	for _, n := range Names() {
		p, err := Load(n)
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if len(p.Cascades) != 1 || p.Cascades[0].Name != n {
			t.Errorf("%s: the file must hold one cascade named after it", n)
		}
		if p.Cascades[0].Comment == "" {
			t.Errorf("%s: the file must start with a comment citing its source", n)
		}
	}
}

// Kernel files are kept in canonical form, so fusemax fmt leaves them alone.
func TestKernelsAreFormatted(t *testing.T) {
	for _, n := range Names() {
		src, _ := Source(n)
		f, err := syntax.ParseFile(n, src)
		if err != nil {
			t.Fatal(err)
		}
		if got := syntax.Format(f); !bytes.Equal([]byte(got), src) {
			t.Errorf("%s.einsum is not in canonical form; fusemax fmt gives:\n%s", n, got)
		}
	}
}

func TestResolve(t *testing.T) {
	name, src, err := Resolve("gemm")
	if err != nil || name != "kernels/gemm.einsum" || len(src) == 0 {
		t.Fatalf("Resolve(gemm) = %q, %d bytes, %v", name, len(src), err)
	}
	if _, _, err := Resolve("no_such_kernel"); err == nil || !strings.Contains(err.Error(), "attention_1pass, attention_2pass") {
		t.Errorf("Resolve of an unknown name: %v", err)
	}
}

func TestResolveBounded(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := Resolve(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("Resolve of a directory: %v", err)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		_, src, err := Resolve("/dev/zero")
		if err != nil || len(src) != syntax.MaxFileBytes+1 {
			t.Errorf("Resolve(/dev/zero) read %d bytes, %v; want it to stop past the limit", len(src), err)
		}
	}
}
