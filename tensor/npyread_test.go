package tensor

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npy"
)

// TestNPYByteIdentical checks the streaming writer against npyio's, which
// wrote the golden files before it, and against the golden files
// themselves: every one reads and writes back to the same bytes.
func TestNPYByteIdentical(t *testing.T) {
	for _, shape := range [][]int{{3}, {2, 3}, {2, 3, 4}, {1, 1, 2, 1}, {17, 5}} {
		src := Random(3, "T", NormalDist, shape...)
		f32 := make([]float32, len(src.Data))
		for i, v := range src.Data {
			f32[i] = float32(v)
		}
		for _, dt := range []DType{F64, F32} {
			var mine, theirs bytes.Buffer
			if err := WriteNPY(&mine, src, dt); err != nil {
				t.Fatal(err)
			}
			var flat any = src.Data
			if dt == F32 {
				flat = f32
			}
			if err := npy.Write(&theirs, nest(flat, shape)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(mine.Bytes(), theirs.Bytes()) {
				t.Errorf("%v %v: bytes differ from npyio's:\n%q\n%q", shape, dt, mine.Bytes()[:80], theirs.Bytes()[:80])
			}
		}
	}
	files, _ := filepath.Glob("../golden/*/*/*.npy")
	if len(files) == 0 {
		t.Fatal("no golden .npy files found")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		h, err := ReadNPYHeader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		d, err := ReadNPY(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var out bytes.Buffer
		if err := WriteNPY(&out, d, h.DType); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), raw) {
			t.Errorf("%s: rewritten bytes differ", f)
		}
	}
}

// nest builds npyio's nested-slice input for a flat slice.
func nest(flat any, shape []int) any {
	switch f := flat.(type) {
	case []float64:
		return nestOf(f, shape)
	case []float32:
		return nestOf(f, shape)
	}
	return nil
}

func nestOf[T any](f []T, shape []int) any {
	switch len(shape) {
	case 1:
		return f
	case 2:
		out := make([][]T, shape[0])
		for i := range out {
			out[i] = f[i*shape[1] : (i+1)*shape[1]]
		}
		return out
	}
	n := NumElems(shape[1:])
	switch len(shape) {
	case 3:
		out := make([][][]T, shape[0])
		for i := range out {
			out[i] = nestOf(f[i*n:(i+1)*n], shape[1:]).([][]T)
		}
		return out
	default:
		out := make([][][][]T, shape[0])
		for i := range out {
			out[i] = nestOf(f[i*n:(i+1)*n], shape[1:]).([][][]T)
		}
		return out
	}
}

// TestReadNPYCorrupt: every malformed file is a clear error, never a
// recovered panic, and nothing proportional to a declared shape is
// allocated or read.
func TestReadNPYCorrupt(t *testing.T) {
	ok := "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
	payload := make([]byte, 8)
	cases := []struct {
		name string
		raw  []byte
		want string
	}{
		{"empty", nil, "shorter than the 8-byte preamble"},
		{"magic", []byte("\x93NUMPX\x01\x00\x10\x00"), "does not start with"},
		{"version", []byte("\x93NUMPY\x07\x00\x10\x00"), "version 7.0"},
		{"header length", []byte("\x93NUMPY\x01\x00\xff\xff{}"), "ends inside the header"},
		{"v2 header over limit", []byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f"), "over the 65536-byte limit"},
		{"no brace", npyFile("'descr': '<f4'", nil), "does not start with {"},
		{"unknown key", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", payload), "unknown key"},
		{"missing shape", npyFile("{'descr': '<f4', 'fortran_order': False}", payload), "no shape"},
		{"twice", npyFile("{'descr': '<f4', 'descr': '<f4'}", payload), "appears twice"},
		{"int", npyFile("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", payload), "element type <i8"},
		{"negative", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", payload), "not a non-negative integer"},
		{"huge", npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", payload), "more than 2^48 bytes"},
		{"overflow", npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (999999999999999, 999999999999999, 999999999999999), }", payload), "more than 2^48 bytes"},
		{"digits", npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }", payload), "at most 15 digits"},
		{"bool", npyFile("{'descr': '<f4', 'fortran_order': maybe, 'shape': (2,), }", payload), "not True or False"},
		{"unclosed string", npyFile("{'descr: <f4}", payload), "expected 'key':"},
		{"truncated", npyFile(ok, payload[:5]), "holds 5 bytes of data, shape [2] needs 8"},
		{"long", npyFile(ok, append(payload, 0)), "more than the 8 bytes"},
		{"big declared, little present", npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000,), }", payload), "holds 8 bytes of data"},
	}
	for _, tc := range cases {
		_, err := ReadNPY(bytes.NewReader(tc.raw))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "runtime error") {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := ReadNPY(bytes.NewReader(npyFile(ok, payload))); err != nil {
		t.Errorf("valid file: %v", err)
	}
}

// TestLoadNPYDevices: a device that never ends is refused by its first
// bytes; a regular file's size is checked against its header before the
// payload is read; a check sees the header first.
func TestLoadNPYDevices(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := LoadNPY("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not an .npy file") {
			t.Errorf("/dev/zero: %v", err)
		}
	}
	p := filepath.Join(t.TempDir(), "big.npy")
	os.WriteFile(p, npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000,), }", make([]byte, 8)), 0o644)
	if _, err := LoadNPY(p); err == nil || !strings.Contains(err.Error(), "holds 8 bytes of data, shape [100000000000] needs 800000000000") {
		t.Errorf("oversized shape: %v", err)
	}
	refused := false
	LoadNPYChecked(p, func(h NPYInfo) error { refused = h.Shape[0] == 100000000000; return os.ErrInvalid })
	if !refused {
		t.Error("check did not see the header")
	}
}

func FuzzReadNPY(f *testing.F) {
	var b bytes.Buffer
	WriteNPY(&b, Random(1, "X", UniformDist, 2, 3), F32)
	f.Add(b.Bytes())
	b.Reset()
	WriteNPY(&b, Random(1, "X", UniformDist, 4), F64)
	f.Add(b.Bytes())
	f.Add(npyFile("{'descr': '>f8', 'fortran_order': True, 'shape': (2, 1), }", make([]byte, 16)))
	f.Add([]byte("\x93NUMPY\x02\x00\x10\x00\x00\x00{'shape': ()}"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := ReadNPY(bytes.NewReader(raw))
		if err != nil {
			if strings.Contains(err.Error(), "runtime error") {
				t.Fatalf("panic as message: %v", err)
			}
			return
		}
		if len(d.Data) != NumElems(d.Shape) {
			t.Fatalf("%d elements for shape %v", len(d.Data), d.Shape)
		}
	})
}
