package syntax

import (
	"errors"
	"fmt"
	"strings"

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

// ParseFile parses src, naming positions after filename.
func ParseFile(filename string, src []byte) (*File, error) {
	text := string(src)
	if strings.ContainsRune(text, '\x00') {
		return nil, &Error{Pos: lexer.Position{Filename: filename, Line: 1, Column: 1}, Msg: "file contains a NUL byte: not a text file"}
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
		if r := []rune(strings.Trim(rest, `"`)); len(r) > 0 {
			return fmt.Sprintf("unexpected character %q", r[0])
		}
		return "unexpected character"
	}
	return msg
}
