package tensor

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"strconv"
	"strings"
)

const npyMagic = "\x93NUMPY"

// maxNPYHeader bounds the header a reader accepts before reading it (NumPy
// itself refuses headers over 10,000 bytes by default).
const maxNPYHeader = 1 << 16

// maxNPYBytes bounds the payload a header may declare: 2^48 bytes, so that
// byte counts never overflow and absurd shapes are refused before any read.
const maxNPYBytes = 1 << 48

// NPYInfo is what an .npy header declares.
type NPYInfo struct {
	Shape     []int
	DType     DType
	BigEndian bool
	Fortran   bool
	// HeaderLen is the offset of the payload in the file.
	HeaderLen int64
}

// Elems is the number of elements the header declares.
func (h NPYInfo) Elems() int { return NumElems(h.Shape) }

// PayloadBytes is the size of the data the header declares.
func (h NPYInfo) PayloadBytes() int64 { return int64(h.Elems()) * h.elemSize() }

func (h NPYInfo) elemSize() int64 {
	if h.DType == F32 {
		return 4
	}
	return 8
}

// ReadNPYHeader reads and checks an .npy header (versions 1 to 3) and
// leaves r at the start of the payload. It reads at most 12 bytes plus a
// header length bounded by 64 KiB, whatever r holds.
func ReadNPYHeader(r io.Reader) (NPYInfo, error) {
	var h NPYInfo
	var pre [8]byte
	if n, err := io.ReadFull(r, pre[:]); err != nil {
		return h, fmt.Errorf("npy: not an .npy file: %d bytes, shorter than the 8-byte preamble", n)
	}
	if string(pre[:6]) != npyMagic {
		return h, fmt.Errorf("npy: not an .npy file: it does not start with \\x93NUMPY")
	}
	var hlen, lenBytes int64
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return h, fmt.Errorf("npy: file ends inside the header length")
		}
		hlen, lenBytes = int64(binary.LittleEndian.Uint16(b[:])), 2
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return h, fmt.Errorf("npy: file ends inside the header length")
		}
		hlen, lenBytes = int64(binary.LittleEndian.Uint32(b[:])), 4
	default:
		return h, fmt.Errorf("npy: format version %d.%d is not supported (want 1.0, 2.0 or 3.0)", pre[6], pre[7])
	}
	if hlen > maxNPYHeader {
		return h, fmt.Errorf("npy: header of %d bytes is over the %d-byte limit", hlen, maxNPYHeader)
	}
	dict := make([]byte, hlen)
	if n, err := io.ReadFull(r, dict); err != nil {
		return h, fmt.Errorf("npy: file ends inside the header (%d of %d bytes)", n, hlen)
	}
	h.HeaderLen = 8 + lenBytes + hlen
	if err := parseNPYDict(string(dict), &h); err != nil {
		return h, fmt.Errorf("npy: header %s: %w", quoteHeader(dict), err)
	}
	return h, nil
}

// quoteHeader shows a header for an error message, escaped and shortened.
func quoteHeader(b []byte) string {
	s := strings.TrimRight(string(b), " \n")
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return strconv.QuoteToASCII(s)
}

// parseNPYDict reads the header's Python dict literal: exactly the keys
// descr (a float type), fortran_order (True or False) and shape (a tuple
// of non-negative integers), in any order.
func parseNPYDict(s string, h *NPYInfo) error {
	p := &dictParser{s: s}
	if !p.eat("{") {
		return errors.New("does not start with {")
	}
	seen := map[string]bool{}
	for !p.eat("}") {
		key, ok := p.str()
		if !ok || !p.eat(":") {
			return fmt.Errorf("expected 'key': at byte %d", p.i)
		}
		if seen[key] {
			return fmt.Errorf("key %q appears twice", key)
		}
		seen[key] = true
		var err error
		switch key {
		case "descr":
			err = p.descr(h)
		case "fortran_order":
			err = p.boolean(&h.Fortran)
		case "shape":
			err = p.shape(h)
		default:
			return fmt.Errorf("unknown key %q (want descr, fortran_order, shape)", key)
		}
		if err != nil {
			return err
		}
		if !p.eat(",") && !p.peek("}") {
			return fmt.Errorf("expected , or } at byte %d", p.i)
		}
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return fmt.Errorf("no %s", k)
		}
	}
	if p.skip(); p.i != len(s) {
		return fmt.Errorf("unexpected text after the dict at byte %d", p.i)
	}
	return nil
}

type dictParser struct {
	s string
	i int
}

func (p *dictParser) skip() {
	for p.i < len(p.s) && strings.IndexByte(" \t\n\r", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *dictParser) peek(tok string) bool {
	p.skip()
	return strings.HasPrefix(p.s[p.i:], tok)
}

func (p *dictParser) eat(tok string) bool {
	if p.peek(tok) {
		p.i += len(tok)
		return true
	}
	return false
}

// str reads a quoted string without escapes.
func (p *dictParser) str() (string, bool) {
	p.skip()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", false
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", false
	}
	v := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return v, true
}

func (p *dictParser) descr(h *NPYInfo) error {
	v, ok := p.str()
	if !ok {
		return fmt.Errorf("descr is not a string at byte %d", p.i)
	}
	switch v {
	case "<f8", "=f8", "float64":
		h.DType = F64
	case ">f8":
		h.DType, h.BigEndian = F64, true
	case "<f4", "=f4", "float32":
		h.DType = F32
	case ">f4":
		h.DType, h.BigEndian = F32, true
	default:
		return fmt.Errorf("element type %s is not supported (want float64 or float32)", v)
	}
	return nil
}

func (p *dictParser) boolean(b *bool) error {
	switch {
	case p.eat("True"):
		*b = true
	case p.eat("False"):
		*b = false
	default:
		return fmt.Errorf("fortran_order is not True or False at byte %d", p.i)
	}
	return nil
}

// shape reads a tuple of extents, checking that their product, in bytes,
// stays under maxNPYBytes.
func (p *dictParser) shape(h *NPYInfo) error {
	if !p.eat("(") {
		return fmt.Errorf("shape is not a tuple at byte %d", p.i)
	}
	h.Shape = []int{}
	total := uint64(h.elemSize())
	for !p.eat(")") {
		p.skip()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j == p.i || j-p.i > 15 {
			return fmt.Errorf("shape extent at byte %d is not a non-negative integer of at most 15 digits", p.i)
		}
		n, _ := strconv.Atoi(p.s[p.i:j])
		p.i = j
		p.eat("L") // Python 2 longs
		hi, lo := bits.Mul64(total, uint64(n))
		if hi != 0 || lo > maxNPYBytes {
			return fmt.Errorf("shape declares more than 2^48 bytes of data")
		}
		total = lo
		h.Shape = append(h.Shape, n)
		if !p.eat(",") && !p.peek(")") {
			return fmt.Errorf("expected , or ) in shape at byte %d", p.i)
		}
	}
	if len(h.Shape) > 32 {
		return fmt.Errorf("shape has %d dimensions, more than NumPy's 32", len(h.Shape))
	}
	return nil
}

// ReadNPY reads a float64 or float32 .npy array (either byte order, C or
// Fortran order) into a row-major Dense. It reads the payload in chunks, so
// memory grows with the bytes present, not with what the header declares,
// and it insists on exactly the declared payload.
func ReadNPY(r io.Reader) (*Dense, error) {
	h, err := ReadNPYHeader(r)
	if err != nil {
		return nil, err
	}
	return readPayload(r, h, false)
}

// readPayload decodes h's payload from r; sized says the payload is known
// to be present (a regular file of the right size), so it is allocated at
// once.
func readPayload(r io.Reader, h NPYInfo, sized bool) (*Dense, error) {
	n := h.Elems()
	capacity := n
	if !sized {
		capacity = min(n, 1<<20)
	}
	data := make([]float64, 0, capacity)
	err := decodePayload(r, h, func(v float64) error {
		data = append(data, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	t := &Dense{Shape: h.Shape, Data: data}
	if h.Fortran && len(h.Shape) > 1 {
		t.Data = fromFortran(t.Data, h.Shape)
	}
	return t, nil
}

// decodePayload calls emit for each element of h's payload, in file
// order, insisting on exactly the declared bytes.
func decodePayload(r io.Reader, h NPYInfo, emit func(float64) error) error {
	n := h.Elems()
	es := int(h.elemSize())
	br := bufio.NewReaderSize(r, 1<<16)
	chunk := make([]byte, 1<<16)
	var order binary.ByteOrder = binary.LittleEndian
	if h.BigEndian {
		order = binary.BigEndian
	}
	for done := 0; done < n; {
		want := min(n-done, len(chunk)/es) * es
		got, err := io.ReadFull(br, chunk[:want])
		for i := 0; i+es <= got; i += es {
			var v float64
			if es == 4 {
				v = float64(math.Float32frombits(order.Uint32(chunk[i:])))
			} else {
				v = math.Float64frombits(order.Uint64(chunk[i:]))
			}
			if err := emit(v); err != nil {
				return err
			}
		}
		done += got / es
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("npy: file holds %d bytes of data, shape %v needs %d", int64(done)*int64(es)+int64(got%es), h.Shape, h.PayloadBytes())
			}
			return fmt.Errorf("npy: %w", err)
		}
	}
	if _, err := br.ReadByte(); err == nil {
		return fmt.Errorf("npy: file holds more than the %d bytes of data shape %v needs", h.PayloadBytes(), h.Shape)
	}
	return nil
}

// LoadNPY reads the named .npy file (see ReadNPY).
func LoadNPY(path string) (*Dense, error) {
	return LoadNPYChecked(path, nil)
}

// LoadNPYChecked reads the named .npy file after check (when not nil)
// accepted its header, so that a caller can refuse a shape before any of
// the payload is read. A regular file's size must match its header before
// anything is allocated.
func LoadNPYChecked(path string, check func(NPYInfo) error) (*Dense, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := loadNPY(f, check)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

func loadNPY(f *os.File, check func(NPYInfo) error) (*Dense, error) {
	br := bufio.NewReaderSize(f, 1<<16)
	h, err := readChecked(f, br, check)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	return readPayload(br, h, err == nil && st.Mode().IsRegular())
}

// checkedHeader reads f's header and checks it (readChecked).
func checkedHeader(f *os.File, check func(NPYInfo) error) (NPYInfo, error) {
	return readChecked(f, bufio.NewReaderSize(f, 1<<16), check)
}

// readChecked reads a header from r (a reader over f), runs check on it,
// and for a regular file checks that the file holds exactly the payload.
func readChecked(f *os.File, r io.Reader, check func(NPYInfo) error) (NPYInfo, error) {
	h, err := ReadNPYHeader(r)
	if err != nil {
		return h, err
	}
	if check != nil {
		if err := check(h); err != nil {
			return h, err
		}
	}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if got := st.Size() - h.HeaderLen; got != h.PayloadBytes() {
			return h, fmt.Errorf("npy: file holds %d bytes of data, shape %v needs %d", got, h.Shape, h.PayloadBytes())
		}
	}
	return h, nil
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
