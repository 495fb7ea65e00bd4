package einsum

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/fusemax/fusemax/einsum/syntax"
	"sort"
	"strings"
)

// Error is one diagnostic at a source position.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// ErrorList is every error Check found, in source order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

func (l ErrorList) sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// Render prints each error of err (an *Error, an ErrorList or anything else)
// followed by its source line from src and a caret under the column, the way
// a compiler does.
func Render(err error, src []byte) string {
	var list ErrorList
	switch e := err.(type) {
	case ErrorList:
		list = e
	case *Error:
		list = ErrorList{e}
	case *syntax.Error:
		list = ErrorList{{Pos: pos(e.Pos), Msg: e.Msg}}
	default:
		return err.Error()
	}
	lines := strings.Split(string(src), "\n")
	var b strings.Builder
	for _, e := range list {
		b.WriteString(e.Error() + "\n")
		if e.Pos.Line >= 1 && e.Pos.Line <= len(lines) {
			line := strings.TrimRight(lines[e.Pos.Line-1], "\r")
			before, after := excerpt(prefixBytes(line, e.Pos.Col-1), line[len(prefixBytes(line, e.Pos.Col-1)):])
			b.WriteString("\t" + before + after + "\n")
			b.WriteString("\t" + strings.Repeat(" ", utf8.RuneCountInString(before)) + "^\n")
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// excerptRunes is how much of a source line an error shows on each side of
// its caret; a 1 MB line is clipped, not copied to the terminal.
const excerptRunes = 60

// excerpt renders the source line around the caret (before it, from it on)
// for a terminal: tabs become spaces, control and invalid bytes are escaped
// (\x00), and each side is clipped to excerptRunes with "...".
func excerpt(before, after string) (string, string) {
	b, a := []rune(visible(before)), []rune(visible(after))
	if len(b) > excerptRunes {
		b = append([]rune("..."), b[len(b)-excerptRunes:]...)
	}
	if len(a) > excerptRunes {
		a = append(a[:excerptRunes], []rune("...")...)
	}
	return string(b), string(a)
}

func visible(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\t':
			b.WriteByte(' ')
		case r == utf8.RuneError && len(s[i:]) > 0 && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case unicode.IsControl(r):
			if r < 0x100 {
				fmt.Fprintf(&b, "\\x%02x", r)
			} else {
				fmt.Fprintf(&b, "\\u%04x", r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// prefixBytes returns the first n bytes of s (participle's columns count
// bytes), clamped to s.
func prefixBytes(s string, n int) string {
	if n < 0 {
		return ""
	}
	if n > len(s) {
		return s
	}
	return s[:n]
}

func errorf(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}
