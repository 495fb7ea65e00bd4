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
		return nil, &Error{Pos: start, Msg: fmt.Sprintf("file is over %d bytes (128 KiB), the most a cascade file may hold; put its cascades in several files", MaxFileBytes)}
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

// checkNesting rejects, before the recursive parser sees them, text nested
// deeper than MaxNesting (open brackets of every kind, and runs of minus
// signs: each a unary operator the grammar recurses on) and unbalanced
// brackets, which the parser would report far from the cause (an unclosed
// '(' as an unexpected token where it gave up). A lexing error is left for
// the parser to report.
func checkNesting(filename, text string) error {
	lx, err := einsumLexer.LexString(filename, text)
	if err != nil {
		return nil
	}
	syms := einsumLexer.Symbols()
	space, comment := syms["Whitespace"], syms["Comment"]
	var open []lexer.Token
	minuses := 0
	for {
		tok, err := lx.Next()
		if err != nil {
			return nil
		}
		if tok.EOF() {
			if len(open) > 0 {
				o := open[len(open)-1]
				return &Error{Pos: o.Pos, Msg: fmt.Sprintf("this %q is never closed: %q missing before the end of the file", o.Value, closer[o.Value])}
			}
			return nil
		}
		switch v := tok.Value; v {
		case "(", "[", "{":
			open = append(open, tok)
		case ")", "]", "}":
			if len(open) == 0 {
				return &Error{Pos: tok.Pos, Msg: fmt.Sprintf("unmatched %q: no bracket is open here", v)}
			}
			if o := open[len(open)-1]; closer[o.Value] != v {
				return &Error{Pos: o.Pos, Msg: fmt.Sprintf("this %q is not closed: %q expected before the %q at line %d, column %d", o.Value, closer[o.Value], v, tok.Pos.Line, tok.Pos.Column)}
			}
			open = open[:len(open)-1]
		}
		if tok.Value == "-" || tok.Value == "−" {
			minuses++
		} else if tok.Type != space && tok.Type != comment {
			minuses = 0
		}
		if len(open) > MaxNesting || minuses > MaxNesting {
			return &Error{Pos: tok.Pos, Msg: fmt.Sprintf("nested more than %d levels deep; split the expression into several statements", MaxNesting)}
		}
	}
}

var closer = map[string]string{"(": ")", "[": "]", "{": "}"}

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
	if i := strings.Index(msg, " (expected "); i >= 0 && strings.HasSuffix(msg, ")") {
		msg = msg[:i] + "; expected " + expectation(msg[i+len(" (expected "):len(msg)-1])
	}
	r := strings.NewReplacer(
		`<ident>`, "a name",
		`<int>`, "an integer",
		`<float>`, "a number",
		`<eof>`, "end of file",
	)
	msg = r.Replace(msg)
	msg = strings.TrimPrefix(msg, "lexer: ")
	for _, kw := range []string{"ranks", "split", "input", "output", "iterate"} {
		// A stray name before a declaration reads as the start of an Einsum:
		// most often a list missing a comma (ranks K M).
		if msg == `unexpected token "`+kw+`"; expected "="` {
			return msg + ` (a name before it began an Einsum: do its declaration's names lack a comma, as in "ranks K M" for "ranks K, M"?)`
		}
	}
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

// productions names the grammar's rules in the language's terms, for
// "expected ..." in syntax errors (participle reports the rule it was in).
var productions = map[string]string{
	"Reducer":    "a reducer: max(RANK), min(RANK) or sum(RANK)",
	"Index":      "an index expression such as m or m1*M0 + m0",
	"Affine":     "an index expression such as m or m1*M0 + m0",
	"AffTerm":    "an index expression such as m or m1*M0 + m0",
	"AffFactor":  "an index expression such as m or m1*M0 + m0",
	"Expr":       "an expression",
	"Term":       "an expression",
	"Unary":      "an expression",
	"Primary":    "an expression",
	"Cond":       "a comparison such as m1 >= M1",
	"Name":       "a name",
	"Item":       "a declaration or a statement",
	"Stmt":       "a statement such as Z[k] = A[k]",
	"Access":     "a tensor such as A[k]",
	"TensorDecl": "a tensor declaration such as Q[e, p]",
	"TensorList": "a tensor declaration such as Q[e, p]",
	"Cascade":    "cascade NAME { ... }",
	"EqSign":     `"="`,
}

// expectation turns participle's expected sequence (`Expr ("::"
// Reducer+)? ";"?`) into what may come next: its first element, in words.
func expectation(seq string) string {
	first := strings.Fields(seq)
	if len(first) == 0 {
		return seq
	}
	tok := strings.TrimLeft(first[0], "(")
	tok = strings.TrimRight(tok, "+*?)")
	if d, ok := productions[tok]; ok {
		return d
	}
	if strings.HasPrefix(tok, `"`) || strings.HasPrefix(tok, "<") {
		return tok // a literal, or a token class the caller words
	}
	return "something else"
}
