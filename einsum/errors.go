package einsum

import (
	"fmt"

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
			b.WriteString("\t" + strings.ReplaceAll(line, "\t", " ") + "\n")
			col := len([]rune(prefixBytes(line, e.Pos.Col-1)))
			b.WriteString("\t" + strings.Repeat(" ", col) + "^\n")
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
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
