package main

import (
	"fmt"

	"github.com/fusemax/fusemax/golden"
	"github.com/spf13/cobra"
)

func addGolden(root *cobra.Command) {
	var dir string
	cmd := &cobra.Command{
		Use:   "golden --dir DIR",
		Short: "Regenerate the golden inputs and outputs of the built-in kernels",
		Long: `golden writes, for each built-in kernel at two or more small shapes, seeded
inputs and the float64 outputs of the reference interpreter, as
DIR/KERNEL/SHAPE/NAME.npy. make golden runs it on the repository's golden/
folder; explain any change to those files in the commit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return usagef("--dir is required")
			}
			if err := golden.Generate(dir); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d golden cases to %s\n", len(golden.Cases()), dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "root folder of the golden data")
	root.AddCommand(cmd)
}
