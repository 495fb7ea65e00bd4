// Package reference locates the reference material that lies beside the
// repository (../shared/reference from the module root) for tests that
// compare against it. Where it is absent those tests skip with a clear
// message, except when the environment sets CI: there they fail, so a CI
// run that lost the reference cannot pass by checking nothing.
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
// test is skipped when it cannot be found, or fails when CI is set.
func FuseMaxResults(t testing.TB) string {
	t.Helper()
	ref := filepath.Join(moduleRoot(t), "..", "shared", "reference", "fusemax-micro24", "results")
	if _, err := os.Stat(filepath.Join(ref, "attn-binding.csv")); err != nil {
		missing(t, "reference CSVs not found at "+ref+" (the FuseMax artifact's results; shared/ lies beside the repository)")
	}
	return ref
}

// moduleRoot is the folder holding go.mod above the test's directory.
func moduleRoot(t testing.TB) string {
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
			missing(t, "no go.mod above the test's directory, so no ../shared/reference beside it")
		}
		dir = parent
	}
	return dir
}

// missing skips t, or fails it when the environment sets CI.
func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(why + "; CI is set, so this is a failure, not a skip")
		return
	}
	t.Skip(why)
}
