package reproduce

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// Kind says how a column's values are printed.
type Kind int

const (
	// Text is a key column (model, seq_len).
	Text Kind = iota
	// Count is printed as an integer when whole, as the artifact's integer
	// arithmetic did, else as a float's repr.
	Count
	// Real is printed as Python's repr of the float.
	Real
)

// Table is one CSV: its exact header line and its rows. Key columns come
// first and are text; the rest are numbers.
type Table struct {
	File string
	// Header is the header line as the artifact wrote it; it can end with a
	// comma (attn-unfused.csv joins an empty per-Einsum column list).
	Header string
	Cols   []string // column names, empty ones dropped
	Kinds  []Kind
	Rows   []Row
}

// Row is one line: Text cells in Keys, numbers in Vals (one per non-Text
// column, in order).
type Row struct {
	Keys []string
	Vals []float64
}

// NewTable starts a table whose header is the columns joined, then, after
// one more comma, the extra columns joined: the artifact's way of appending
// per-Einsum columns, which leaves a trailing comma when there are none.
func NewTable(file string, cols []string, kinds []Kind, extra []string) *Table {
	t := &Table{File: file, Cols: append([]string(nil), cols...), Kinds: append([]Kind(nil), kinds...)}
	t.Header = strings.Join(cols, ",")
	if extra != nil {
		t.Header += "," + strings.Join(extra, ",")
		for _, c := range extra {
			t.Cols = append(t.Cols, c)
			t.Kinds = append(t.Kinds, Real)
		}
	}
	return t
}

// Keys is the number of leading Text columns.
func (t *Table) Keys() int {
	n := 0
	for n < len(t.Kinds) && t.Kinds[n] == Text {
		n++
	}
	return n
}

// Col is the index of a numeric column among Vals, or -1.
func (t *Table) Col(name string) int {
	k := t.Keys()
	for i, c := range t.Cols {
		if c == name && i >= k {
			return i - k
		}
	}
	return -1
}

// Find returns the row whose keys are keys, or nil.
func (t *Table) Find(keys ...string) *Row {
	for i := range t.Rows {
		if equal(t.Rows[i].Keys, keys) {
			return &t.Rows[i]
		}
	}
	return nil
}

// Get is the value of column col in the row keyed by keys; ok is false when
// either is missing.
func (t *Table) Get(col string, keys ...string) (float64, bool) {
	r, c := t.Find(keys...), t.Col(col)
	if r == nil || c < 0 || c >= len(r.Vals) {
		return math.NaN(), false
	}
	return r.Vals[c], true
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Bytes is the CSV exactly as written: header, then one line per row, "\n"
// line ends.
func (t *Table) Bytes() []byte {
	var b bytes.Buffer
	b.WriteString(t.Header)
	b.WriteByte('\n')
	k := t.Keys()
	for _, r := range t.Rows {
		for i, s := range r.Keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(s)
		}
		for i, v := range r.Vals {
			b.WriteByte(',')
			if t.Kinds[k+i] == Count {
				b.WriteString(PyCount(v))
			} else {
				b.WriteString(PyRepr(v))
			}
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ReadTable reads a CSV the artifact (or Table.Bytes) wrote, whose first
// keys columns are text keys and the rest numbers.
func ReadTable(file string, r io.Reader, keys int) (*Table, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	t := &Table{File: file}
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimRight(sc.Text(), "\r")
		if line == 1 {
			t.Header = s
			for _, c := range strings.Split(s, ",") {
				if c != "" {
					t.Cols = append(t.Cols, c)
					t.Kinds = append(t.Kinds, Real)
				}
			}
			if keys > len(t.Cols) {
				return nil, fmt.Errorf("%s: the header has %d columns, fewer than the %d keys", file, len(t.Cols), keys)
			}
			for i := 0; i < keys; i++ {
				t.Kinds[i] = Text
			}
			continue
		}
		if s == "" {
			continue
		}
		f := strings.Split(s, ",")
		if len(f) != len(t.Cols) {
			return nil, fmt.Errorf("%s:%d: %d fields, the header names %d", file, line, len(f), len(t.Cols))
		}
		row := Row{Keys: append([]string(nil), f[:keys]...)}
		for i, x := range f[keys:] {
			v, err := strconv.ParseFloat(x, 64)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: column %s: %q is not a number", file, line, t.Cols[keys+i], x)
			}
			row.Vals = append(row.Vals, v)
		}
		t.Rows = append(t.Rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	if line == 0 {
		return nil, fmt.Errorf("%s: empty", file)
	}
	return t, nil
}

// ReadTableFile reads a CSV from disk.
func ReadTableFile(path string, keys int) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	name := path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		name = path[i+1:]
	}
	return ReadTable(name, f, keys)
}
