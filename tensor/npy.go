package tensor

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"codeberg.org/sbinet/npyio/npy"
)

// DType is the element type of a stored or computed tensor.
type DType int

const (
	F64 DType = iota
	F32
)

func (d DType) String() string {
	if d == F32 {
		return "f32"
	}
	return "f64"
}

// ParseDType accepts f64/float64 and f32/float32.
func ParseDType(s string) (DType, error) {
	switch s {
	case "f64", "float64":
		return F64, nil
	case "f32", "float32":
		return F32, nil
	}
	return 0, fmt.Errorf("unknown dtype %q (want f32 or f64)", s)
}

// WriteNPY writes t to w in NumPy .npy format (little-endian, C order) with
// elements of the given dtype. The bytes depend only on t and dtype.
func WriteNPY(w io.Writer, t *Dense, dtype DType) error {
	for _, s := range t.Shape {
		if s <= 0 {
			return fmt.Errorf("npy: cannot write shape %v: every extent must be positive", t.Shape)
		}
	}
	if len(t.Data) != NumElems(t.Shape) {
		return fmt.Errorf("npy: %d elements for shape %v", len(t.Data), t.Shape)
	}
	// npyio derives the shape from nested slices; build them over the flat
	// data so nothing is copied but the float32 conversion.
	var flat any = t.Data
	if dtype == F32 {
		f := make([]float32, len(t.Data))
		for i, v := range t.Data {
			f[i] = float32(v)
		}
		flat = f
	}
	var v any
	if len(t.Shape) == 0 {
		v = reflect.ValueOf(flat).Index(0).Interface()
	} else {
		v = nest(reflect.ValueOf(flat), t.Shape).Interface()
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	if err := npy.Write(bw, v); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	return bw.Flush()
}

// nest views a flat slice as nested slices of the given shape.
func nest(flat reflect.Value, shape []int) reflect.Value {
	if len(shape) == 1 {
		return flat
	}
	inner := NumElems(shape[1:])
	typ := flat.Type()
	for range shape[1:] {
		typ = reflect.SliceOf(typ)
	}
	out := reflect.MakeSlice(typ, shape[0], shape[0])
	for i := 0; i < shape[0]; i++ {
		out.Index(i).Set(nest(flat.Slice(i*inner, (i+1)*inner), shape[1:]))
	}
	return out
}

// ReadNPY reads a float64 or float32 .npy array (either byte order, C or
// Fortran order) into a row-major Dense.
func ReadNPY(r io.Reader) (t *Dense, err error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	// npyio trusts its input; a malformed header must be an error, not a
	// crash of the caller.
	defer func() {
		if p := recover(); p != nil {
			t, err = nil, fmt.Errorf("npy: malformed file: %v", p)
		}
	}()
	rd, err := npy.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	h := rd.Header
	shape := append([]int{}, h.Descr.Shape...)
	for _, s := range shape {
		if s < 0 {
			return nil, fmt.Errorf("npy: negative extent in shape %v", shape)
		}
	}
	n := NumElems(shape)
	var esize int
	switch strings.Trim(h.Descr.Type, "'\"") {
	case "<f8", ">f8", "=f8", "float64":
		esize = 8
	case "<f4", ">f4", "=f4", "float32":
		esize = 4
	default:
		return nil, fmt.Errorf("npy: element type %s is not supported (want float64 or float32)", h.Descr.Type)
	}
	// npyio pads a short file with zeros; insist on the full payload.
	if hl, ok := headerLen(raw, h.Major); !ok || len(raw)-hl != n*esize {
		return nil, fmt.Errorf("npy: file holds %d bytes of data, shape %v needs %d", len(raw)-hl, shape, n*esize)
	}
	t = &Dense{Shape: shape, Data: make([]float64, n)}
	if esize == 8 {
		if err := rd.Read(&t.Data); err != nil {
			return nil, fmt.Errorf("npy: %w", err)
		}
	} else {
		f := make([]float32, n)
		if err := rd.Read(&f); err != nil {
			return nil, fmt.Errorf("npy: %w", err)
		}
		for i, v := range f {
			t.Data[i] = float64(v)
		}
	}
	if h.Descr.Fortran && len(shape) > 1 {
		t.Data = fromFortran(t.Data, shape)
	}
	return t, nil
}

// headerLen is the offset of the data in an .npy file.
func headerLen(raw []byte, major byte) (int, bool) {
	switch major {
	case 1:
		if len(raw) < 10 {
			return 0, false
		}
		return 10 + int(binary.LittleEndian.Uint16(raw[8:])), true
	case 2, 3:
		if len(raw) < 12 {
			return 0, false
		}
		return 12 + int(binary.LittleEndian.Uint32(raw[8:])), true
	}
	return 0, false
}

// fromFortran reorders column-major data to row-major.
func fromFortran(src []float64, shape []int) []float64 {
	dst := make([]float64, len(src))
	rs := Strides(shape)
	idx := make([]int, len(shape))
	for i := range src {
		off := 0
		for d := range idx {
			off += idx[d] * rs[d]
		}
		dst[off] = src[i]
		// Column-major: the first index varies fastest.
		for d := 0; d < len(idx); d++ {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return dst
}

// SaveNPY writes t to the named file (see WriteNPY).
func SaveNPY(path string, t *Dense, dtype DType) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteNPY(f, t, dtype); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// LoadNPY reads the named .npy file (see ReadNPY).
func LoadNPY(path string) (*Dense, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := ReadNPY(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}
