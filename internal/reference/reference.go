// Package reference locates the reference material that lies beside the
// repository (../shared/reference from the module root) for tests that
// compare against it, and skips those tests, with a clear message, where it
// is absent.
//
// It is for tests only and must not be imported by non-test code.
package reference

import (
	"os"
	"path/filepath"
	"testing"
)

// FuseMaxResults is the folder of the FuseMax artifact's result CSVs
// (../shared/reference/fusemax-micro24/results beside the module root). The
// test is skipped when it cannot be found.
func FuseMaxResults(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the test's directory, so no ../shared/reference beside it")
		}
		dir = parent
	}
	ref := filepath.Join(dir, "..", "shared", "reference", "fusemax-micro24", "results")
	if _, err := os.Stat(filepath.Join(ref, "attn-binding.csv")); err != nil {
		t.Skipf("reference CSVs not found at %s (the FuseMax artifact's results; shared/ lies beside the repository)", ref)
	}
	return ref
}
