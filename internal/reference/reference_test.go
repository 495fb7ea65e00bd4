package reference

import (
	"os"
	"testing"
)

// fakeTB records whether a test skipped or failed.
type fakeTB struct {
	testing.TB
	skipped, failed bool
}

func (f *fakeTB) Helper()              {}
func (f *fakeTB) Skip(...any)          { f.skipped = true }
func (f *fakeTB) Fatal(...any)         { f.failed = true }
func (f *fakeTB) Skipf(string, ...any) { f.skipped = true }

func TestMissingFailsUnderCI(t *testing.T) {
	t.Setenv("CI", "true")
	f := &fakeTB{TB: t}
	missing(f, "gone")
	if !f.failed || f.skipped {
		t.Errorf("with CI set: failed %v, skipped %v; want a failure", f.failed, f.skipped)
	}
	os.Unsetenv("CI")
	f = &fakeTB{TB: t}
	missing(f, "gone")
	if f.failed || !f.skipped {
		t.Errorf("without CI: failed %v, skipped %v; want a skip", f.failed, f.skipped)
	}
}
