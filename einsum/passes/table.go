package passes

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes r as indented JSON. The output is deterministic: every
// list is in cascade or pass order.
func WriteJSON(w io.Writer, r *Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteTable writes r as the plain-text table of `fusemax passes`.
func WriteTable(w io.Writer, r *Report) error {
	var b strings.Builder
	plural := "es"
	if r.Passes == 1 {
		plural = ""
	}
	fmt.Fprintf(&b, "cascade %s: %d pass%s over %s\n\n", r.Cascade, r.Passes, plural, r.Rank)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PASS\tEINSUM\tLINE\tWHY")
	for _, e := range r.Einsums {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\n", e.Pass, e.Name, e.Line, e.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Chains) > 0 {
		b.WriteString("\nwhy each extra pass:\n")
		for _, c := range r.Chains {
			fmt.Fprintf(&b, "  pass %d: %s\n", c.Pass, c.Text)
		}
	}
	if len(r.Retained) > 0 {
		b.WriteString("\nbetween passes, keep on chip (or else as noted):\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  TENSOR\tSIZE\tPASSES\tREAD AGAIN BY\tELSE")
		for _, x := range r.Retained {
			fmt.Fprintf(tw, "  %s\t%s\t%d→%d\t%s\t%s\n", x.Tensor, x.Size, x.From, x.To, strings.Join(x.ReadBy, ", "), x.Else)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	} else if r.Passes == 1 {
		fmt.Fprintf(&b, "\none pass: nothing of size %s needs to stay on chip between passes\n", r.Rank)
	}
	writeLevels(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeLevels prints the passes over each part of a split rank and what
// each extra traversal re-reads.
func writeLevels(b *strings.Builder, r *Report) {
	if len(r.Levels) == 0 {
		return
	}
	fmt.Fprintf(b, "\npasses per level of %s (each part traversed with the others fixed):\n", r.Rank)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  LEVEL\tPASSES\tRE-READ BETWEEN PASSES")
	for _, l := range r.Levels {
		fmt.Fprintf(tw, "  %s\t%d\t%s\n", l.Rank, l.Passes, RetainedList(l.Retained))
	}
	tw.Flush()
}

// RetainedList is "QK (M×P) 1→2, LM (M1×P) 1→2", or "-" when empty.
func RetainedList(rs []Retained) string {
	if len(rs) == 0 {
		return "-"
	}
	s := make([]string, len(rs))
	for i, x := range rs {
		s[i] = fmt.Sprintf("%s (%s) %d→%d", x.Tensor, x.Size, x.From, x.To)
	}
	return strings.Join(s, ", ")
}
