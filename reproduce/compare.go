package reproduce

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// ColumnError is the worst relative error of one column of one CSV against
// a reference, and where it occurs.
type ColumnError struct {
	File, Column string
	Rel          float64 // |got − want| / |want| (absolute when want is 0)
	Keys         []string
	Got, Want    float64
	Rows         int // rows compared
}

// Compare matches every table's rows with the reference's by key and
// reports, per numeric column, the worst relative error. Missing reference
// rows or columns are errors, so a comparison cannot pass by omission.
func Compare(got *Table, ref *Table) ([]ColumnError, error) {
	k := got.Keys()
	var out []ColumnError
	for ci, name := range got.Cols[k:] {
		rc := ref.Col(name)
		if rc < 0 {
			return nil, fmt.Errorf("%s: the reference has no column %s", got.File, name)
		}
		ce := ColumnError{File: got.File, Column: name}
		for _, r := range got.Rows {
			rr := ref.Find(r.Keys...)
			if rr == nil {
				return nil, fmt.Errorf("%s: the reference has no row %s", got.File, strings.Join(r.Keys, ","))
			}
			g, w := r.Vals[ci], rr.Vals[rc]
			e := math.Abs(g - w)
			if w != 0 {
				e /= math.Abs(w)
			}
			if math.IsNaN(e) {
				e = math.Inf(1)
			}
			if ce.Rows == 0 || e > ce.Rel {
				ce.Rel, ce.Keys, ce.Got, ce.Want = e, r.Keys, g, w
			}
			ce.Rows++
		}
		out = append(out, ce)
	}
	if len(got.Rows) < len(ref.Rows) {
		return out, fmt.Errorf("%s: %d rows, the reference has %d", got.File, len(got.Rows), len(ref.Rows))
	}
	return out, nil
}

// CompareDir compares every table of out with the CSV of the same name in
// dir. Tables the reference lacks are reported as errors in the list's
// order, not fatal.
func CompareDir(out *Output, dir string) ([]ColumnError, []error) {
	var all []ColumnError
	var errs []error
	for _, f := range out.Files {
		t, ok := out.Tables[f]
		if !ok {
			continue
		}
		ref, err := ReadTableFile(filepath.Join(dir, f), t.Keys())
		if err != nil {
			if os.IsNotExist(err) {
				err = fmt.Errorf("%s: not in %s", f, dir)
			}
			errs = append(errs, err)
			continue
		}
		ce, err := Compare(t, ref)
		all = append(all, ce...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return all, errs
}

// ReadOutput reads a directory of CSVs (a reference, or an earlier run) as
// an Output, so that the summary and the figures can be drawn from it.
func ReadOutput(x *Experiment, dir string) (*Output, error) {
	out := &Output{Experiment: x, Profile: x.Profile, Tables: map[string]*Table{}, Failed: map[string]string{}}
	for _, f := range x.csvFiles() {
		keys := 2
		if x.Pareto != nil && f == x.Pareto.CSV {
			keys = 3
		}
		t, err := ReadTableFile(filepath.Join(dir, f), keys)
		out.Files = append(out.Files, f)
		if err != nil {
			out.Failed[f] = err.Error()
			continue
		}
		out.Tables[f] = t
	}
	return out, nil
}

// csvFiles lists the experiment's CSVs in order.
func (x *Experiment) csvFiles() []string {
	var out []string
	for _, c := range x.Attention {
		out = append(out, c.CSV)
	}
	for _, p := range x.Platforms {
		out = append(out, p.CSV)
	}
	if x.Pareto != nil {
		out = append(out, x.Pareto.CSV)
	}
	return out
}
