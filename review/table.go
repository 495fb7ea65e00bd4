package review

import (
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Table is a sweep's CSV: a header and one row per point, in point order.
type Table struct {
	Header []string
	Rows   [][]string
}

// WriteCSV writes the table as CSV.
func (t *Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(t.Header)
	cw.WriteAll(t.Rows)
	return cw.Error()
}

// maxShardBytes bounds one shard file read by merge.
const maxShardBytes = 1 << 30

// ReadTable reads a sweep CSV (a shard) written by WriteCSV.
func ReadTable(name string, r io.Reader) (*Table, error) {
	cr := csv.NewReader(io.LimitReader(r, maxShardBytes))
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(recs) == 0 || len(recs[0]) < 2 || recs[0][0] != "point" {
		return nil, fmt.Errorf("%s:1: not a fusemax sweep CSV (its first column must be point)", name)
	}
	if _, _, err := splitHeader(recs[0]); err != nil {
		return nil, fmt.Errorf("%s:1: %v", name, err)
	}
	return &Table{Header: recs[0], Rows: recs[1:]}, nil
}

// splitHeader finds the columns whose set depends on the points (util_*,
// peak_*_bytes, energy_*_pj, between "bound" and "work_pe_ops"): fixed
// columns before them end at lo, the fixed tail starts at hi.
func splitHeader(h []string) (lo, hi int, err error) {
	lo = slices.Index(h, "bound") + 1
	hi = slices.Index(h, "work_pe_ops")
	if lo == 0 || hi < lo {
		return 0, 0, fmt.Errorf("not a fusemax sweep CSV (no bound and work_pe_ops columns)")
	}
	return lo, hi, nil
}

// variableOrder sorts the point-dependent columns as a single run writes
// them: utilizations, then buffer peaks, then energy components, each by
// name.
func variableOrder(cols map[string]bool) []string {
	group := func(c string) int {
		switch {
		case strings.HasPrefix(c, "util_"):
			return 0
		case strings.HasPrefix(c, "peak_"):
			return 1
		}
		return 2
	}
	out := slices.Sorted(maps.Keys(cols))
	slices.SortStableFunc(out, func(a, b string) int { return group(a) - group(b) })
	return out
}

// Merge joins shards of one sweep into the table the single-machine run
// writes: the union of their columns, rows in point order. Every point
// from 0 to the last must be present exactly once, and the shards must
// come from the same sweep (the same fixed columns).
func Merge(names []string, ts []*Table) (*Table, error) {
	if len(ts) == 0 {
		return nil, fmt.Errorf("name the shard CSVs to merge")
	}
	lo0, hi0, _ := splitHeader(ts[0].Header)
	head, tail := ts[0].Header[:lo0], ts[0].Header[hi0:]
	vars := map[string]bool{}
	for k, t := range ts {
		lo, hi, _ := splitHeader(t.Header)
		if !slices.Equal(t.Header[:lo], head) || !slices.Equal(t.Header[hi:], tail) {
			return nil, fmt.Errorf("%s: its columns differ from %s's: the shards are not of one sweep", names[k], names[0])
		}
		for _, c := range t.Header[lo:hi] {
			vars[c] = true
		}
	}
	out := &Table{Header: slices.Concat(head, variableOrder(vars), tail)}
	pos := map[string]int{}
	for i, c := range out.Header {
		pos[c] = i
	}
	seen := map[int]string{}
	for k, t := range ts {
		for r, row := range t.Rows {
			p, err := strconv.Atoi(row[0])
			if err != nil || p < 0 {
				return nil, fmt.Errorf("%s:%d: point %q is not a point number", names[k], r+2, row[0])
			}
			if prev, dup := seen[p]; dup {
				return nil, fmt.Errorf("%s:%d: point %d is also in %s: a shard was given twice, or shards of different sweeps", names[k], r+2, p, prev)
			}
			seen[p] = names[k]
			nr := make([]string, len(out.Header))
			for i, c := range t.Header {
				nr[pos[c]] = row[i]
			}
			out.Rows = append(out.Rows, nr)
		}
	}
	slices.SortFunc(out.Rows, func(a, b []string) int { return atoi(a[0]) - atoi(b[0]) })
	for i, row := range out.Rows {
		if atoi(row[0]) != i {
			return nil, fmt.Errorf("point %d is missing: a shard was not given (or did not finish)", i)
		}
	}
	return out, nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
