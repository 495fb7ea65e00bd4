package reference

import (
	"os"
	"path/filepath"
	"testing"
)

// GPUResults is the folder of published GPU attention throughput tables
// (../shared/reference/gpu/results beside the module root). The test is
// skipped when it cannot be found, or fails when CI is set.
func GPUResults(t testing.TB) string {
	t.Helper()
	ref := filepath.Join(moduleRoot(t), "..", "shared", "reference", "gpu", "results")
	if _, err := os.Stat(filepath.Join(ref, "h100-fwd.csv")); err != nil {
		missing(t, "published GPU throughput tables not found at "+ref+" (shared/ lies beside the repository)")
	}
	return ref
}
