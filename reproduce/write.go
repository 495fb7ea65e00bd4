package reproduce

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Write puts the reproduction in dir: every CSV that was built, the
// figures, and summary.md (with the comparison against refDir's CSVs when
// refDir is not empty). It returns the comparison.
func Write(dir string, out *Output, refDir string) ([]ColumnError, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for f, t := range out.Tables {
		files[f] = t.Bytes()
	}
	figs, err := Figures(out)
	if err != nil {
		return nil, err
	}
	for f, b := range figs {
		files[f] = b
	}
	var cmp []ColumnError
	var cmpErrs []error
	if refDir != "" {
		cmp, cmpErrs = CompareDir(out, refDir)
	}
	files["summary.md"] = Summary(out, cmp, cmpErrs, refDir)
	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		if err := os.WriteFile(filepath.Join(dir, f), files[f], 0o644); err != nil {
			return nil, err
		}
	}
	return cmp, nil
}

// ProgressBar returns a Progress callback that redraws one line on w.
func ProgressBar(w io.Writer, label string) func(done, total int) {
	return func(done, total int) {
		const width = 30
		n := width * done / max(total, 1)
		fmt.Fprintf(w, "\r%s [%s%s] %d/%d", label, strings.Repeat("#", n), strings.Repeat(" ", width-n), done, total)
		if done == total {
			fmt.Fprintln(w)
		}
	}
}
