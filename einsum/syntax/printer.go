package syntax

import (
	"fmt"
	"strings"
)

// Format prints f in the canonical ASCII form: one item per line, two-space
// indentation, Unicode operators replaced by their ASCII spelling, comments
// kept where they were, at most one blank line between items, and the '='
// signs of a run of consecutive statements aligned when the source aligned
// them.
func Format(f *File) string {
	p := &printer{comments: f.Comments}
	for i, c := range f.Cascades {
		if i > 0 {
			p.buf.WriteString("\n")
		}
		p.leading(c.Pos.Line, 0)
		fmt.Fprintf(&p.buf, "cascade %s {", c.Name)
		p.trailing(c.Pos.Line)
		p.buf.WriteString("\n")
		p.items(c.Items, 1, c.Pos.Line)
		p.leading(c.EndPos.Line, 1)
		p.buf.WriteString("}")
		p.trailing(c.EndPos.Line)
		p.buf.WriteString("\n")
	}
	p.leading(1<<30, 0)
	return p.aligned()
}

type printer struct {
	buf      strings.Builder
	comments []Comment
	next     int // index of the first comment not yet printed
	stmts    []stmtLine
}

// stmtLine locates one printed statement in buf, for the alignment pass.
type stmtLine struct {
	start, eq, end int // offsets of the line's start, its " = ", and past its newline
	lhsWidth       int
	srcCol         int // column of the '=' in the source
}

// leading prints the comments that stand before line, each on its own line.
func (p *printer) leading(line, depth int) {
	for p.next < len(p.comments) && p.comments[p.next].Pos.Line < line {
		c := p.comments[p.next]
		if p.next > 0 && c.Pos.Line > p.comments[p.next-1].Pos.Line+1 && p.buf.Len() > 0 && !strings.HasSuffix(p.buf.String(), "{\n") {
			p.blankLine()
		}
		p.buf.WriteString(strings.Repeat("  ", depth) + c.Text + "\n")
		p.next++
	}
}

// trailing appends the comments on line after the code just printed.
func (p *printer) trailing(line int) {
	for p.next < len(p.comments) && p.comments[p.next].Pos.Line == line {
		p.buf.WriteString("  " + p.comments[p.next].Text)
		p.next++
	}
}

func (p *printer) blankLine() {
	if s := p.buf.String(); !strings.HasSuffix(s, "\n\n") {
		p.buf.WriteString("\n")
	}
}

func (p *printer) items(items []*Item, depth int, prevLine int) {
	ind := strings.Repeat("  ", depth)
	for _, it := range items {
		if it.Pos.Line > prevLine+1 && !p.commentBetween(prevLine, it.Pos.Line) {
			p.blankLine()
		} else if p.next < len(p.comments) && p.comments[p.next].Pos.Line > prevLine+1 && p.comments[p.next].Pos.Line < it.Pos.Line {
			p.blankLine()
		}
		p.leading(it.Pos.Line, depth)
		start := p.buf.Len()
		p.buf.WriteString(ind)
		switch {
		case it.Ranks != nil:
			p.buf.WriteString("ranks " + names(it.Ranks.Names))
		case it.Split != nil:
			p.buf.WriteString("split " + it.Split.Rank.Text + " into " + names(it.Split.Parts))
		case it.Input != nil:
			p.buf.WriteString("input " + tensorList(it.Input))
		case it.Output != nil:
			p.buf.WriteString("output " + tensorList(it.Output))
		case it.Iterate != nil:
			fmt.Fprintf(&p.buf, "iterate %s until %s {", it.Iterate.Var.Text, cond(it.Iterate.Until))
			p.trailing(it.Pos.Line)
			p.buf.WriteString("\n")
			p.items(it.Iterate.Body, depth+1, it.Pos.Line)
			p.leading(it.EndPos.Line, depth+1)
			p.buf.WriteString(ind + "}")
		case it.Stmt != nil:
			lhs := access(it.Stmt.Lhs)
			p.buf.WriteString(lhs)
			p.stmts = append(p.stmts, stmtLine{start: start, eq: p.buf.Len(), lhsWidth: len([]rune(lhs)), srcCol: it.Stmt.Eq.Pos.Column})
			p.buf.WriteString(" = " + expr(it.Stmt.Rhs))
			if len(it.Stmt.Reducers) > 0 {
				p.buf.WriteString(" ::")
				for _, r := range it.Stmt.Reducers {
					p.buf.WriteString(" " + reducer(r))
				}
			}
		}
		p.trailing(it.EndPos.Line)
		p.buf.WriteString("\n")
		if it.Stmt != nil {
			p.stmts[len(p.stmts)-1].end = p.buf.Len()
		}
		prevLine = it.EndPos.Line
	}
}

func (p *printer) commentBetween(a, b int) bool {
	for _, c := range p.comments[p.next:] {
		if c.Pos.Line > a && c.Pos.Line < b {
			return true
		}
	}
	return false
}

// aligned returns the printed text with the '=' signs of each run aligned
// when the source aligned them. A run is a sequence of statements on
// consecutive lines of the output (not of the source: statements sharing a
// source line, or spread over several, print one per line), so formatting
// the output again finds the same runs and the same alignment.
func (p *printer) aligned() string {
	out := p.buf.String()
	var b strings.Builder
	b.Grow(len(out))
	done := 0
	for i := 0; i < len(p.stmts); {
		j := i + 1
		for j < len(p.stmts) && p.stmts[j].start == p.stmts[j-1].end {
			j++
		}
		run := p.stmts[i:j]
		if len(run) > 1 && sameColumn(run) {
			w := 0
			for _, s := range run {
				w = max(w, s.lhsWidth)
			}
			for _, s := range run {
				b.WriteString(out[done:s.eq])
				b.WriteString(strings.Repeat(" ", w-s.lhsWidth))
				done = s.eq
			}
		}
		i = j
	}
	b.WriteString(out[done:])
	return b.String()
}

func sameColumn(run []stmtLine) bool {
	for _, s := range run[1:] {
		if s.srcCol != run[0].srcCol {
			return false
		}
	}
	return true
}

func names(ns []*Name) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = n.Text
	}
	return strings.Join(s, ", ")
}

func tensorList(l *TensorList) string {
	s := make([]string, len(l.Tensors))
	for i, t := range l.Tensors {
		s[i] = t.Name
		if t.Partial {
			s[i] = "partial " + t.Name
		}
		if len(t.Indices) > 0 {
			s[i] += "[" + names(t.Indices) + "]"
		}
	}
	return strings.Join(s, ", ")
}

func access(a *Access) string {
	if len(a.Indices) == 0 {
		return a.Name
	}
	s := make([]string, len(a.Indices))
	for i, x := range a.Indices {
		s[i] = affine(x.Expr)
		if len(x.Filter) > 0 {
			c := make([]string, len(x.Filter))
			for k, f := range x.Filter {
				c[k] = cond(f)
			}
			s[i] += ": " + strings.Join(c, " && ")
		}
	}
	return a.Name + "[" + strings.Join(s, ", ") + "]"
}

var cmpASCII = map[string]string{"=": "==", "≤": "<=", "≥": ">=", "≠": "!="}

func cond(c *Cond) string {
	op := c.Op
	if a, ok := cmpASCII[op]; ok {
		op = a
	}
	if c.Data != nil {
		return dataCond(c.Data)
	}
	return affine(c.Left) + " " + op + " " + affine(c.Right)
}

func dataCond(c *DataCond) string {
	op := c.Op
	if a, ok := cmpASCII[op]; ok {
		op = a
	}
	return dataOperand(c.Left) + " " + op + " " + dataOperand(c.Right)
}

func dataOperand(o *DataOperand) string {
	s := ""
	if o.Neg {
		s = "-"
	}
	switch {
	case o.Ref != nil:
		idx := make([]string, len(o.Ref.Indices))
		for i, x := range o.Ref.Indices {
			idx[i] = affine(x)
		}
		return o.Ref.Name + "[" + strings.Join(idx, ", ") + "]"
	case o.Inf:
		return s + "inf"
	}
	return s + *o.Number
}

func ascii(op string) string {
	switch op {
	case "−":
		return "-"
	case "×":
		return "*"
	}
	return op
}

// affine prints an index expression the way gofmt spaces a binary
// expression: a sum of plain names and integers is written tight (m1+1), and
// when products are present they are tight and the sum is spaced
// (m1*M0 + m0).
func affine(a *Affine) string {
	sep := ""
	if hasProduct(a) {
		sep = " "
	}
	parts := make([]string, 0, 2*len(a.Rest)+1)
	parts = append(parts, affTerm(a.First))
	for _, r := range a.Rest {
		parts = append(parts, ascii(r.Op), affTerm(r.Term))
	}
	return strings.Join(parts, sep) // one copy: += in the loop was quadratic in the line's length
}

func hasProduct(a *Affine) bool {
	if len(a.First.Factors) > 1 {
		return true
	}
	for _, r := range a.Rest {
		if len(r.Term.Factors) > 1 {
			return true
		}
	}
	return false
}

func affTerm(t *AffTerm) string {
	s := make([]string, len(t.Factors))
	for i, f := range t.Factors {
		switch {
		case f.Int != nil:
			s[i] = *f.Int
		case f.Name != nil:
			s[i] = *f.Name
		default:
			s[i] = "(" + affine(f.Paren) + ")"
		}
	}
	return strings.Join(s, "*")
}

func reducer(r *Reducer) string {
	if r.EdgeRank != nil {
		op := r.EdgeOp
		if op == "+" {
			op = "sum"
		}
		return op + "(" + r.EdgeRank.Text + ")"
	}
	if r.TopK != nil {
		return "topk(" + r.TopK.Var.Text + ", " + r.TopK.Count + ")"
	}
	return r.Op + "(" + names(r.Ranks) + ")"
}

func expr(e *Expr) string {
	parts := make([]string, 0, 2*len(e.Rest)+1)
	parts = append(parts, term(e.First))
	for _, r := range e.Rest {
		parts = append(parts, ascii(r.Op), term(r.Term))
	}
	return strings.Join(parts, " ")
}

func term(t *Term) string {
	parts := make([]string, 0, 2*len(t.Rest)+1)
	parts = append(parts, unary(t.First))
	for _, r := range t.Rest {
		parts = append(parts, ascii(r.Op), unary(r.X))
	}
	return strings.Join(parts, " ")
}

func unary(u *Unary) string {
	if u.Neg {
		return "-" + unary(u.Negated)
	}
	return primary(u.Primary)
}

func primary(p *Primary) string {
	switch {
	case p.Number != nil:
		return *p.Number
	case p.Inf:
		return "inf"
	case p.EPow != nil:
		return "exp(" + expr(p.EPow) + ")"
	case p.Call != nil:
		a := make([]string, len(p.Call.Args))
		for i, x := range p.Call.Args {
			a[i] = expr(x)
		}
		return p.Call.Func + "(" + strings.Join(a, ", ") + ")"
	case p.Paren != nil:
		return "(" + expr(p.Paren) + ")"
	}
	return access(p.Access)
}
