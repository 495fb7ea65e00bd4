package tensor

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteDir writes each named tensor to dir/NAME.npy. It first writes every
// file into a temporary folder beside dir and only then moves them into
// place, so a failure leaves no half-written set behind.
func WriteDir(dir string, names []string, tensors map[string]*Dense, dtype DType) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(dir)), ".fusemax-out-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, n := range names {
		t, ok := tensors[n]
		if !ok {
			return fmt.Errorf("no tensor %s to write", n)
		}
		if err := SaveNPY(filepath.Join(tmp, n+".npy"), t, dtype); err != nil {
			return fmt.Errorf("%s: %v", n, err)
		}
	}
	for _, n := range names {
		if err := os.Rename(filepath.Join(tmp, n+".npy"), filepath.Join(dir, n+".npy")); err != nil {
			return err
		}
	}
	return nil
}
