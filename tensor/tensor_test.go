package tensor

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

func TestSplitMix64KnownStream(t *testing.T) {
	// Reference values of SplitMix64 seeded with 1234567.
	r := NewRand(1234567)
	want := []uint64{6457827717110365317, 3203168211198807973, 9817491932198370423}
	for i, w := range want {
		if g := r.Uint64(); g != w {
			t.Fatalf("draw %d = %d, want %d", i, g, w)
		}
	}
}

func TestRandomIsPerNameAndInRange(t *testing.T) {
	a := Random(7, "Q", UniformDist, 4, 5)
	b := Random(7, "Q", UniformDist, 4, 5)
	c := Random(7, "K", UniformDist, 4, 5)
	d := Random(8, "Q", UniformDist, 4, 5)
	for i, v := range a.Data {
		if v < -1 || v >= 1 {
			t.Fatalf("uniform value %v out of [-1,1)", v)
		}
		if v != b.Data[i] {
			t.Fatal("same seed and name gave different data")
		}
	}
	if a.Data[0] == c.Data[0] || a.Data[0] == d.Data[0] {
		t.Fatal("different name or seed gave the same first value")
	}
	n := Random(1, "X", NormalDist, 20000)
	var sum, sq float64
	for _, v := range n.Data {
		sum += v
		sq += v * v
	}
	mean, vr := sum/20000, sq/20000-(sum/20000)*(sum/20000)
	if math.Abs(mean) > 0.05 || math.Abs(vr-1) > 0.05 {
		t.Fatalf("normal mean %v variance %v", mean, vr)
	}
}

func TestNPYRoundTrip(t *testing.T) {
	for _, shape := range [][]int{{}, {3}, {2, 3}, {2, 3, 4}, {1, 1, 2, 1}} {
		src := Random(3, "T", NormalDist, shape...)
		for _, dt := range []DType{F64, F32} {
			var b1, b2 bytes.Buffer
			if err := WriteNPY(&b1, src, dt); err != nil {
				t.Fatal(err)
			}
			if err := WriteNPY(&b2, src, dt); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
				t.Fatalf("%v %v: two writes differ", shape, dt)
			}
			got, err := ReadNPY(bytes.NewReader(b1.Bytes()))
			if err != nil {
				t.Fatalf("%v %v: %v", shape, dt, err)
			}
			want := src.Clone()
			if dt == F32 {
				want.RoundF32()
			}
			if !got.SameShape(want) {
				t.Fatalf("%v %v: read shape %v", shape, dt, got.Shape)
			}
			for i := range want.Data {
				if got.Data[i] != want.Data[i] {
					t.Fatalf("%v %v: element %d = %v, want %v", shape, dt, i, got.Data[i], want.Data[i])
				}
			}
		}
	}
}

func TestNPYHeader(t *testing.T) {
	var b bytes.Buffer
	x := New(2, 3, 4)
	x.Set(1.5, 1, 2, 3)
	if err := WriteNPY(&b, x, F64); err != nil {
		t.Fatal(err)
	}
	raw := b.Bytes()
	if !bytes.HasPrefix(raw, []byte("\x93NUMPY")) {
		t.Fatalf("bad magic % x", raw[:8])
	}
	if h := string(raw); !strings.Contains(h, "'descr': '<f8'") || !strings.Contains(h, "'shape': (2, 3, 4)") || !strings.Contains(h, "'fortran_order': False") {
		t.Fatalf("header %q", raw[:64])
	}
	// The last element of the payload is x[1,2,3]: row-major order.
	last := binary.LittleEndian.Uint64(raw[len(raw)-8:])
	if math.Float64frombits(last) != 1.5 {
		t.Fatalf("last element %v", math.Float64frombits(last))
	}
	var s bytes.Buffer
	if err := WriteNPY(&s, Filled(2, []int{}...), F32); err != nil {
		t.Fatal(err)
	}
	if h := s.String(); !strings.Contains(h, "'shape': ()") || !strings.Contains(h, "'descr': '<f4'") {
		t.Fatalf("scalar header %q", h)
	}
}

// npyFile builds a version 1.0 .npy file by hand.
func npyFile(dict string, payload []byte) []byte {
	hdr := dict + strings.Repeat(" ", 63-(10+len(dict))%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(hdr)))
	b.WriteString(hdr)
	b.Write(payload)
	return b.Bytes()
}

func TestReadNPYFortranAndErrors(t *testing.T) {
	// 2x3 matrix [[0 1 2] [3 4 5]] stored column-major: 0 3 1 4 2 5.
	var p bytes.Buffer
	for _, v := range []float64{0, 3, 1, 4, 2, 5} {
		binary.Write(&p, binary.LittleEndian, v)
	}
	got, err := ReadNPY(bytes.NewReader(npyFile("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", p.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got.Data {
		if v != float64(i) {
			t.Fatalf("fortran read gave %v", got.Data)
		}
	}
	bad := map[string][]byte{
		"truncated": npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", p.Bytes()[:40]),
		"int":       npyFile("{'descr': '<i8', 'fortran_order': False, 'shape': (6,), }", p.Bytes()),
		"garbage":   []byte("not a numpy file at all"),
		"empty":     nil,
	}
	for name, raw := range bad {
		if _, err := ReadNPY(bytes.NewReader(raw)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestSaveLoadAndDType(t *testing.T) {
	path := t.TempDir() + "/x.npy"
	x := Random(1, "X", UniformDist, 3, 2)
	if err := SaveNPY(path, x, F64); err != nil {
		t.Fatal(err)
	}
	y, err := LoadNPY(path)
	if err != nil {
		t.Fatal(err)
	}
	if a, _, _ := MaxAbsDiff(x, y); a != 0 {
		t.Fatal("round trip through a file changed the data")
	}
	if _, err := LoadNPY(path + ".missing"); err == nil {
		t.Fatal("missing file: no error")
	}
	for s, want := range map[string]DType{"f32": F32, "float32": F32, "f64": F64, "float64": F64} {
		if d, err := ParseDType(s); err != nil || d != want || (d.String() != "f32" && d.String() != "f64") {
			t.Errorf("ParseDType(%q) = %v, %v", s, d, err)
		}
	}
	if _, err := ParseDType("f16"); err == nil {
		t.Error("f16 accepted")
	}
}
