package syntax

import "github.com/alecthomas/participle/v2/lexer"

// File is a parsed source file: one or more cascades.
type File struct {
	Name     string     `parser:""`
	Cascades []*Cascade `parser:"@@*"`
	// Comments holds every comment of the file in source order; the printer
	// re-attaches them to the items they precede or follow.
	Comments []Comment `parser:""`
}

// Comment is one '#' comment.
type Comment struct {
	Pos  lexer.Position
	Text string // including the leading '#'
}

// Cascade is `cascade NAME { items }`.
type Cascade struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   string  `parser:"'cascade' @Ident '{'"`
	Items  []*Item `parser:"@@* '}'"`
}

// Item is one declaration, statement or iterate block.
type Item struct {
	Pos     lexer.Position
	EndPos  lexer.Position
	Ranks   *RanksDecl  `parser:"  @@"`
	Split   *SplitDecl  `parser:"| @@"`
	Input   *TensorList `parser:"| 'input' @@"`
	Output  *TensorList `parser:"| 'output' @@"`
	Iterate *Iterate    `parser:"| @@"`
	Stmt    *Stmt       `parser:"| @@"`
}

// RanksDecl is `ranks E, F, M, P`.
type RanksDecl struct {
	Pos   lexer.Position
	Names []*Name `parser:"'ranks' @@ (',' @@)*"`
}

// Name is an identifier with its position.
type Name struct {
	Pos  lexer.Position
	Text string `parser:"@Ident"`
}

// SplitDecl is `split M into M1, M0`.
type SplitDecl struct {
	Pos   lexer.Position
	Rank  *Name   `parser:"'split' @@ 'into'"`
	Parts []*Name `parser:"@@ (',' @@)+"`
}

// TensorList is the list after `input` or `output`.
type TensorList struct {
	Tensors []*TensorDecl `parser:"@@ (',' @@)*"`
}

// TensorDecl is `Q[e, p]` in a declaration.
type TensorDecl struct {
	Pos lexer.Position
	// Partial marks an output some of whose points may stay undefined
	// (`output partial AV[f, p]`); other outputs must be defined everywhere.
	Partial bool    `parser:"@'partial'?"`
	Name    string  `parser:"@Ident"`
	Indices []*Name `parser:"( '[' @@ (',' @@)* ']' )?"`
}

// Iterate is `iterate m1 until COND { items }`.
type Iterate struct {
	Pos   lexer.Position
	Var   *Name   `parser:"'iterate' @@ 'until'"`
	Until *Cond   `parser:"@@ '{'"`
	Body  []*Item `parser:"@@* '}'"`
}

// Stmt is `LHS = Expr [:: reducers] [;]`.
type Stmt struct {
	Pos      lexer.Position
	Lhs      *Access    `parser:"@@"`
	Eq       *EqSign    `parser:"@@"`
	Rhs      *Expr      `parser:"@@"`
	Reducers []*Reducer `parser:"( '::' @@+ )? ';'?"`
}

// EqSign is the '=' of a statement; its position lets the printer keep a
// user's column alignment.
type EqSign struct {
	Pos  lexer.Position
	Sign string `parser:"@'='"`
}

// Reducer is `max(m0)`, `min(m, n)`, `sum(k)`, or the EDGE form `∨_m max(∪)`.
type Reducer struct {
	Pos   lexer.Position
	Op    string  `parser:"(  @('max' | 'min' | 'sum') '('"`
	Ranks []*Name `parser:"   @@ (',' @@)* ')'"`
	TopK  *TopK   `parser:"| @@"`
	// EDGE: ∨ _ rank op ( ∪ )
	EdgeRank *Name  `parser:"| '∨' '_' @@"`
	EdgeOp   string `parser:"  @('max' | 'min' | 'sum' | '+') '(' '∪' ')' )"`
}

// TopK is `topk(m1, 3)`: 1 where the value is among the 3 largest over m1,
// else 0. The count is an integer or a rank size.
type TopK struct {
	Pos   lexer.Position
	Var   *Name  `parser:"'topk' '(' @@ ','"`
	Count string `parser:"@(Int | Ident) ')'"`
}

// Access is a tensor name with optional index list: `RM[m1+1, p]`,
// `S[m: m <= p, p]`, or a bare name (a scalar tensor or a rank size).
type Access struct {
	Pos     lexer.Position
	Name    string   `parser:"@Ident"`
	Indices []*Index `parser:"( '[' @@ (',' @@)* ']' )?"`
}

// Index is one index expression, optionally followed by a filter.
type Index struct {
	Pos    lexer.Position
	Expr   *Affine `parser:"@@"`
	Filter []*Cond `parser:"( ':' @@ ( '&&' @@ )* )?"`
}

// Cond is a comparison of two index expressions, or of tensor elements
// (Data).
type Cond struct {
	Pos   lexer.Position
	Data  *DataCond `parser:"  @@"`
	Left  *Affine   `parser:"| @@"`
	Op    string    `parser:"@('==' | '!=' | '<=' | '>=' | '<' | '>' | '=' | '≤' | '≥' | '≠')"`
	Right *Affine   `parser:"@@"`
}

// DataCond compares tensor elements or numbers: `Sel[m1, p] != 0`. At least
// one side must read a tensor (the checker says so).
type DataCond struct {
	Pos   lexer.Position
	Left  *DataOperand `parser:"@@"`
	Op    string       `parser:"@('==' | '!=' | '<=' | '>=' | '<' | '>' | '=' | '≤' | '≥' | '≠')"`
	Right *DataOperand `parser:"@@"`
}

// DataOperand is a tensor element `T[i, j]` or a signed number or infinity.
type DataOperand struct {
	Pos    lexer.Position
	Ref    *DataRef `parser:"  @@"`
	Neg    bool     `parser:"| ( @('-' | '−')?"`
	Number *string  `parser:"    ( @(Float | Int)"`
	Inf    bool     `parser:"    | @('inf' | '∞') ) )"`
}

// DataRef is a tensor element read by a filter; its brackets are required.
type DataRef struct {
	Pos     lexer.Position
	Name    string    `parser:"@Ident '['"`
	Indices []*Affine `parser:"@@ (',' @@)* ']'"`
}

// Affine is an index expression: terms joined by + and -. The checker
// verifies it is affine in the index variables.
type Affine struct {
	Pos   lexer.Position
	First *AffTerm   `parser:"@@"`
	Rest  []*AffRest `parser:"@@*"`
}

// AffRest is `+ term` or `- term`.
type AffRest struct {
	Op   string   `parser:"@('+' | '-' | '−')"`
	Term *AffTerm `parser:"@@"`
}

// AffTerm is a product of factors.
type AffTerm struct {
	Pos     lexer.Position
	Factors []*AffFactor `parser:"@@ ( ('*' | '×') @@ )*"`
}

// AffFactor is an integer, a name, or a parenthesised index expression.
type AffFactor struct {
	Pos   lexer.Position
	Int   *string `parser:"  @Int"`
	Name  *string `parser:"| @Ident"`
	Paren *Affine `parser:"| '(' @@ ')'"`
}

// Expr is a right-hand-side expression: terms joined by + and -.
type Expr struct {
	Pos   lexer.Position
	First *Term     `parser:"@@"`
	Rest  []*OpTerm `parser:"@@*"`
}

// OpTerm is `+ term` or `- term`.
type OpTerm struct {
	Pos  lexer.Position
	Op   string `parser:"@('+' | '-' | '−')"`
	Term *Term  `parser:"@@"`
}

// Term is unary expressions joined by * and /.
type Term struct {
	Pos   lexer.Position
	First *Unary     `parser:"@@"`
	Rest  []*OpUnary `parser:"@@*"`
}

// OpUnary is `* x` or `/ x`.
type OpUnary struct {
	Pos lexer.Position
	Op  string `parser:"@('*' | '×' | '/')"`
	X   *Unary `parser:"@@"`
}

// Unary is an optionally negated primary.
type Unary struct {
	Pos     lexer.Position
	Neg     bool     `parser:"  ( @('-' | '−')"`
	Negated *Unary   `parser:"    @@ )"`
	Primary *Primary `parser:"| @@"`
}

// Primary is a number, infinity, a call, a parenthesised expression, e^(x),
// or a tensor access / rank size.
type Primary struct {
	Pos    lexer.Position
	Number *string `parser:"  @(Float | Int)"`
	Inf    bool    `parser:"| @('inf' | '∞')"`
	EPow   *Expr   `parser:"| 'e' '^' '(' @@ ')'"`
	Call   *Call   `parser:"| @@"`
	Paren  *Expr   `parser:"| '(' @@ ')'"`
	Access *Access `parser:"| @@"`
}

// Call is `f(args)`.
type Call struct {
	Pos  lexer.Position
	Func string  `parser:"@Ident '('"`
	Args []*Expr `parser:"@@ (',' @@)* ')'"`
}
