package syntax

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

var einsumLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Comment", Pattern: `#[^\n]*`},
	{Name: "Whitespace", Pattern: `[ \t\r\n]+`},
	{Name: "Float", Pattern: `(\d+\.\d*|\.\d+)([eE][+-]?\d+)?|\d+[eE][+-]?\d+`},
	{Name: "Int", Pattern: `\d+`},
	{Name: "Ident", Pattern: `[A-Za-z][A-Za-z0-9_]*`},
	{Name: "Punct", Pattern: `::|==|!=|<=|>=|&&|[-+*/=<>:,;()\[\]{}^_]|×|−|≤|≥|≠|∨|∪|∞`},
})

var parser = participle.MustBuild[File](
	participle.Lexer(einsumLexer),
	participle.Elide("Comment", "Whitespace"),
	participle.UseLookahead(64),
)

// Error is a syntax error at a position.
type Error struct {
	Pos lexer.Position
	Msg string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Pos.Filename, e.Pos.Line, e.Pos.Column, e.Msg)
}

// MaxFileBytes bounds a source file: the parser's memory is about a hundred
// times the text, and the largest shipped cascade is a few kilobytes.
const MaxFileBytes = 128 << 10

// MaxNesting bounds how deep brackets and unary minus signs nest. The parser
// recurses once per level; unbounded, 300,000 '(' overflowed Go's stack.
const MaxNesting = 256

// ParseFile parses src, naming positions after filename.
func ParseFile(filename string, src []byte) (*File, error) {
	text := string(src)
	start := lexer.Position{Filename: filename, Line: 1, Column: 1}
	if len(src) > MaxFileBytes {
		return nil, &Error{Pos: start, Msg: fmt.Sprintf("file is %d bytes; a cascade file may hold at most %d (128 KiB)", len(src), MaxFileBytes)}
	}
	if i := strings.IndexByte(text, 0); i >= 0 {
		return nil, &Error{Pos: positionOf(filename, text, i), Msg: "file contains a NUL byte: not a text file"}
	}
	if err := checkNesting(filename, text); err != nil {
		return nil, err
	}
	f, err := parser.ParseString(filename, text)
	if err != nil {
		return nil, convertError(filename, err)
	}
	f.Name = filename
	f.Comments, err = collectComments(filename, text)
	if err != nil {
		return nil, convertError(filename, err)
	}
	return f, nil
}

// checkNesting rejects text nested deeper than MaxNesting before the
// recursive parser sees it. It counts open brackets of every kind and runs
// of minus signs (each one a unary operator the grammar recurses on); a
// lexing error is left for the parser to report.
func checkNesting(filename, text string) error {
	lx, err := einsumLexer.LexString(filename, text)
	if err != nil {
		return nil
	}
	syms := einsumLexer.Symbols()
	space, comment := syms["Whitespace"], syms["Comment"]
	depth, minuses := 0, 0
	for {
		tok, err := lx.Next()
		if err != nil || tok.EOF() {
			return nil
		}
		switch tok.Value {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth = max(depth-1, 0)
		}
		if tok.Value == "-" || tok.Value == "−" {
			minuses++
		} else if tok.Type != space && tok.Type != comment {
			minuses = 0
		}
		if depth > MaxNesting || minuses > MaxNesting {
			return &Error{Pos: tok.Pos, Msg: fmt.Sprintf("nested more than %d levels deep; split the expression into several statements", MaxNesting)}
		}
	}
}

// positionOf is the line and column of byte offset i of text.
func positionOf(filename, text string, i int) lexer.Position {
	line := 1 + strings.Count(text[:i], "\n")
	col := i - strings.LastIndexByte(text[:i], '\n')
	return lexer.Position{Filename: filename, Offset: i, Line: line, Column: col}
}

func collectComments(filename, text string) ([]Comment, error) {
	lx, err := einsumLexer.LexString(filename, text)
	if err != nil {
		return nil, err
	}
	commentType := einsumLexer.Symbols()["Comment"]
	var out []Comment
	for {
		tok, err := lx.Next()
		if err != nil {
			return nil, err
		}
		if tok.EOF() {
			return out, nil
		}
		if tok.Type == commentType {
			out = append(out, Comment{Pos: tok.Pos, Text: strings.TrimRight(tok.Value, " \t\r")})
		}
	}
}

// convertError turns participle's errors into Errors with a readable message.
func convertError(filename string, err error) error {
	var perr participle.Error
	if errors.As(err, &perr) {
		pos := perr.Position()
		if pos.Filename == "" {
			pos.Filename = filename
		}
		if pos.Line == 0 {
			pos.Line, pos.Column = 1, 1
		}
		return &Error{Pos: pos, Msg: friendly(perr.Message())}
	}
	return &Error{Pos: lexer.Position{Filename: filename, Line: 1, Column: 1}, Msg: err.Error()}
}

// friendly rewrites participle's grammar-speak into the language's terms.
func friendly(msg string) string {
	r := strings.NewReplacer(
		`<ident>`, "a name",
		`<int>`, "an integer",
		`<float>`, "a number",
		`<eof>`, "end of file",
	)
	msg = r.Replace(msg)
	msg = strings.TrimPrefix(msg, "lexer: ")
	if rest, ok := strings.CutPrefix(msg, "invalid input text "); ok {
		if r := []rune(strings.Trim(rest, `"`)); len(r) > 0 && r[0] == utf8.RuneError {
			return "invalid UTF-8: not a text file"
		} else if len(r) > 0 {
			return fmt.Sprintf("unexpected character %q", r[0])
		}
		return "unexpected character"
	}
	return msg
}
