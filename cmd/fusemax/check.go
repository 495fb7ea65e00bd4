package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/fusemax/fusemax/einsum"
	"github.com/spf13/cobra"
)

func addCheck(root *cobra.Command) {
	var verbose bool
	cmd := &cobra.Command{
		Use:   "check FILE|KERNEL...",
		Short: "Parse and check cascades; with -v, show tensors, iteration spaces and inferred reductions",
		Long: `check parses each file (or built-in kernel) and runs the semantic checks:
undefined tensors or ranks, tensors defined twice, use before definition,
index arity and rank mismatches, reads provably out of range, recurrences
without a seed. Errors print as file:line:col with the source line and a
caret; the exit status is 1 when any input is invalid.

With -v it prints, per Einsum, its iteration space and the reductions it
infers (a rank on the right but not on the left is reduced, by sum unless
:: says otherwise), so that an unintended reduction is visible.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			for _, arg := range args {
				prog, _, err := loadProgram(arg)
				if err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					bad++
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%d cascade%s)\n", prog.File, len(prog.Cascades), plural(len(prog.Cascades)))
				if verbose {
					for _, c := range prog.Cascades {
						describeCascade(cmd.OutOrStdout(), c)
					}
				}
			}
			if bad > 0 {
				return silentError{}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "show tensors, iteration spaces and inferred reductions")
	root.AddCommand(cmd)
}

// silentError exits with status 1 after the command printed its own errors.
type silentError struct{}

func (silentError) Error() string { return "" }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func describeCascade(w io.Writer, c *einsum.Cascade) {
	fmt.Fprintf(w, "\ncascade %s\n", c.Name)
	fmt.Fprintln(w, "  tensors:")
	for _, t := range c.Tensors {
		dims := make([]string, len(t.Dims))
		for i, d := range t.Dims {
			dims[i] = d.Extent.String()
		}
		fmt.Fprintf(w, "    %-6s %-12s [%s]\n", t.Name, t.Kind, strings.Join(dims, ", "))
	}
	fmt.Fprintln(w, "  einsums:")
	for _, e := range c.Einsums {
		space := make([]string, len(e.Vars))
		for i, v := range e.Vars {
			space[i] = v.Var()
		}
		loop := ""
		if e.Loop != nil {
			loop = fmt.Sprintf(" (in iterate %s)", e.Loop.Var.Var())
		}
		red := "map"
		if len(e.Reductions) > 0 {
			parts := make([]string, len(e.Reductions))
			for i, r := range e.Reductions {
				vs := make([]string, len(r.Vars))
				for k, v := range r.Vars {
					vs[k] = v.Var()
				}
				parts[i] = r.Op.String() + "(" + strings.Join(vs, ", ") + ")"
			}
			red = "reduces " + strings.Join(parts, " then ")
		}
		fmt.Fprintf(w, "    %s:%d  %s  over [%s]  %s%s\n", e.Pos.File, e.Pos.Line, e.Output, strings.Join(space, ", "), red, loop)
	}
}
