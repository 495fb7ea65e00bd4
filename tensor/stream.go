package tensor

import (
	"bufio"
	"fmt"
	"os"
)

// Values produces a tensor's elements in row-major order, calling emit for
// each and stopping at emit's first error. It lets a large tensor flow from
// a file or a generator to a consumer without being held in memory.
type Values func(emit func(float64) error) error

// DenseValues streams t's elements.
func DenseValues(t *Dense) Values {
	return func(emit func(float64) error) error {
		for _, v := range t.Data {
			if err := emit(v); err != nil {
				return err
			}
		}
		return nil
	}
}

// RandomValues streams the n elements Random(seed, name, dist, shape...)
// holds, for a shape of n elements, without allocating them.
func RandomValues(seed uint64, name string, dist Distribution, n int) Values {
	return func(emit func(float64) error) error {
		r := NewRand(SeedFor(seed, name))
		for range n {
			v := r.Uniform()
			if dist == NormalDist {
				v = r.Normal()
			}
			if err := emit(v); err != nil {
				return err
			}
		}
		return nil
	}
}

// NPYValues opens an .npy file, checks its header (as LoadNPYChecked does,
// size against the file included) and returns its header and a stream of
// its elements in row-major order; each call of the stream reads the file
// again. A Fortran-order file is read whole, since its row-major order is
// not the file's.
func NPYValues(path string, check func(NPYInfo) error) (NPYInfo, Values, error) {
	f, err := os.Open(path)
	if err != nil {
		return NPYInfo{}, nil, err
	}
	h, err := checkedHeader(f, check)
	f.Close()
	if err != nil {
		return h, nil, fmt.Errorf("%s: %w", path, err)
	}
	vals := func(emit func(float64) error) error {
		if h.Fortran && len(h.Shape) > 1 {
			t, err := LoadNPYChecked(path, check)
			if err != nil {
				return err
			}
			return DenseValues(t)(emit)
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		br := bufio.NewReaderSize(f, 1<<16)
		if _, err := ReadNPYHeader(br); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := decodePayload(br, h, emit); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return nil
	}
	return h, vals, nil
}

// NPYWriter writes an .npy file element by element (WriteNPY's bytes).
type NPYWriter struct {
	f     *os.File
	w     *bufio.Writer
	dtype DType
	left  int
}

// CreateNPY starts the file at path for a tensor of the given shape.
func CreateNPY(path string, shape []int, dtype DType) (*NPYWriter, error) {
	for _, s := range shape {
		if s <= 0 {
			return nil, fmt.Errorf("npy: cannot write shape %v: every extent must be positive", shape)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := &NPYWriter{f: f, w: bufio.NewWriterSize(f, 1<<16), dtype: dtype, left: NumElems(shape)}
	w.w.Write(NPYHeader(shape, dtype))
	return w, nil
}

// Put appends the next element.
func (w *NPYWriter) Put(v float64) error {
	if w.left == 0 {
		return fmt.Errorf("npy: %s: more elements than the shape holds", w.f.Name())
	}
	w.left--
	PutRaw(w.w, v, w.dtype)
	return nil
}

// Close finishes the file; it fails when fewer elements than the shape
// holds were put.
func (w *NPYWriter) Close() error {
	err := w.w.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil && w.left != 0 {
		err = fmt.Errorf("npy: %s: %d elements missing", w.f.Name(), w.left)
	}
	return err
}
