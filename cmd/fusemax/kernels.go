package main

import (
	"fmt"
	"strings"

	"github.com/fusemax/fusemax/kernels"
	"github.com/spf13/cobra"
)

func addKernels(root *cobra.Command) {
	cmd := &cobra.Command{
		Use:   "kernels [NAME]",
		Short: "List the built-in cascades (or print one)",
		Long: `kernels lists the built-in cascades with the first line of their source
comment. Wherever a command takes a FILE, a built-in kernel's name works
too. With a NAME, it prints that kernel's source.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			if len(args) == 1 {
				src, ok := kernels.Source(args[0])
				if !ok {
					return fmt.Errorf("no built-in kernel %q (built-in: %s)", args[0], strings.Join(kernels.Names(), ", "))
				}
				w.Write(src)
				return nil
			}
			for _, n := range kernels.Names() {
				p, err := kernels.Load(n)
				if err != nil {
					return err
				}
				title, _, _ := strings.Cut(p.Cascades[0].Comment, "\n")
				fmt.Fprintf(w, "%-16s %s\n", n, title)
			}
			return nil
		},
	}
	root.AddCommand(cmd)
}
