package main

import (
	"io"
	"os"

	"github.com/fusemax/fusemax/review"
)

// progressBar is a progress callback drawing on w when w is a terminal,
// else nil (no progress in logs and pipes).
func progressBar(w io.Writer) func(done, total int) {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return review.NewProgress(w).Update
}
