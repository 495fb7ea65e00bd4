package main

import (
	"io"
	"os"

	"github.com/fusemax/fusemax/review"
)

// progressBar is a progress callback drawing on w when w is a terminal,
// else nil (no progress in logs and pipes).
func progressBar(w io.Writer) func(done, total int) {
	if !terminal(w) {
		return nil
	}
	return review.NewProgress(w).Update
}

// terminal reports whether w is a terminal (a character device).
func terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
