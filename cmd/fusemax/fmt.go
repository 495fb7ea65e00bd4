package main

import (
	"bytes"
	"fmt"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/einsum/syntax"
	"github.com/fusemax/fusemax/kernels"
	"github.com/spf13/cobra"
)

func addFmt(root *cobra.Command) {
	var write, list bool
	cmd := &cobra.Command{
		Use:   "fmt FILE|KERNEL...",
		Short: "Print cascades in the canonical ASCII form",
		Long: `fmt prints each file in the canonical form: ASCII operators (the Unicode
forms × − ∞ ≤ ≥ ≠ e^(x) ∨_m max(∪) become * - inf <= >= != exp(x) :: max(m)),
two-space indentation, one blank line at most between items, comments kept.
With -w it rewrites the files in place (atomically); with -l it lists the
files whose formatting differs.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			for _, arg := range args {
				name, src, err := kernels.Resolve(arg)
				if err != nil {
					return err
				}
				f, err := syntax.ParseFile(name, src)
				if err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), einsum.Render(err, src))
					bad++
					continue
				}
				out := []byte(syntax.Format(f))
				switch {
				case list:
					if !bytes.Equal(out, src) {
						fmt.Fprintln(cmd.OutOrStdout(), name)
					}
				case write:
					if name != arg && name != arg+".einsum" {
						return usagef("fmt -w rewrites files; %s is a built-in kernel", arg)
					}
					if !bytes.Equal(out, src) {
						if err := writeOutput(name, out); err != nil {
							return err
						}
					}
				default:
					cmd.OutOrStdout().Write(out)
				}
			}
			if bad > 0 {
				return silentError{}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&write, "write", "w", false, "rewrite the files in place")
	cmd.Flags().BoolVarP(&list, "list", "l", false, "list the files whose formatting differs")
	root.AddCommand(cmd)
}
