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
	return WriteDirWith(dir, names, func(path func(name string) string) error {
		for _, n := range names {
			t, ok := tensors[n]
			if !ok {
				return fmt.Errorf("no tensor %s to write", n)
			}
			if err := SaveNPY(path(n), t, dtype); err != nil {
				return fmt.Errorf("%s: %v", n, err)
			}
		}
		return nil
	})
}

// WriteDirWith is WriteDir with the files written by fill, which gets the
// path in the temporary folder of each name's file; when fill fails,
// nothing is moved into dir, and dir is not created.
func WriteDirWith(dir string, names []string, fill func(path func(name string) string) error) error {
	st, err := NewStage(dir)
	if err != nil {
		return err
	}
	defer st.Remove()
	if err := fill(st.Path); err != nil {
		return err
	}
	return st.Commit(names)
}

// Stage is a temporary folder beside an output folder, where a set of
// .npy files is written before Commit moves them into place together.
type Stage struct{ dir, tmp string }

// NewStage makes the temporary folder beside dir (creating dir's parent,
// not dir).
func NewStage(dir string) (*Stage, error) {
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, ".fusemax-out-*")
	if err != nil {
		return nil, err
	}
	return &Stage{dir: dir, tmp: tmp}, nil
}

// Path is where the file of tensor name is staged.
func (s *Stage) Path(name string) string { return filepath.Join(s.tmp, name+".npy") }

// Commit creates the output folder and moves the named files into it.
func (s *Stage) Commit(names []string) error {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	for _, n := range names {
		if err := os.Rename(s.Path(n), filepath.Join(s.dir, n+".npy")); err != nil {
			return err
		}
	}
	return nil
}

// Remove deletes the temporary folder and what is left in it.
func (s *Stage) Remove() error { return os.RemoveAll(s.tmp) }
