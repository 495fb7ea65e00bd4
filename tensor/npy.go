package tensor

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
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
// elements of the given dtype, streaming the payload through a 64 KiB
// buffer. The bytes depend only on t and dtype.
func WriteNPY(w io.Writer, t *Dense, dtype DType) error {
	for _, s := range t.Shape {
		if s <= 0 {
			return fmt.Errorf("npy: cannot write shape %v: every extent must be positive", t.Shape)
		}
	}
	if len(t.Data) != NumElems(t.Shape) {
		return fmt.Errorf("npy: %d elements for shape %v", len(t.Data), t.Shape)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.Write(NPYHeader(t.Shape, dtype))
	for _, v := range t.Data {
		PutRaw(bw, v, dtype)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	return nil
}

// PutRaw writes v as one little-endian element of dtype (an .npy payload's
// encoding); errors stay in w until its Flush.
func PutRaw(w *bufio.Writer, v float64, dtype DType) {
	// Appending to the buffer's free space allocates nothing per element.
	if dtype == F32 {
		w.Write(binary.LittleEndian.AppendUint32(w.AvailableBuffer(), math.Float32bits(float32(v))))
		return
	}
	w.Write(binary.LittleEndian.AppendUint64(w.AvailableBuffer(), math.Float64bits(v)))
}

// NPYHeader is the version 2.0 header WriteNPY writes for a C-order,
// little-endian array: the magic, the version, the header length and the
// dictionary, padded with spaces as npyio (which wrote these files before)
// pads it, so that files stay byte-identical.
func NPYHeader(shape []int, dtype DType) []byte {
	descr := "'<f8'"
	if dtype == F32 {
		descr = "'<f4'"
	}
	dict := fmt.Sprintf("{'descr': %s, 'fortran_order': False, 'shape': %s, }", descr, shapeTuple(shape))
	pad := (12 + len(dict) + 1) % 16
	dict += strings.Repeat(" ", pad) + "\n"
	out := append([]byte(npyMagic), 2, 0)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(dict)))
	return append(out, dict...)
}

func shapeTuple(shape []int) string {
	if len(shape) == 1 {
		return fmt.Sprintf("(%d,)", shape[0])
	}
	parts := make([]string, len(shape))
	for i, s := range shape {
		parts[i] = strconv.Itoa(s)
	}
	return "(" + strings.Join(parts, ", ") + ")"
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
