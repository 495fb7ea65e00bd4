package main

import (
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/einsum/interp"
	"github.com/spf13/cobra"
)

// fallbackMemory is the budget where the machine's memory cannot be read.
const fallbackMemory = 4 << 30

// addMemoryFlag registers --max-memory on a command that evaluates cascades.
func addMemoryFlag(cmd *cobra.Command, v *string) {
	cmd.Flags().StringVar(v, "max-memory", "", "memory budget for the tensors of one evaluation, e.g. 512M, 8G (default: the machine's available memory)")
}

// checkMemory sizes every tensor of c at sizes and refuses a run whose total
// exceeds the budget, before anything is allocated.
func checkMemory(c *einsum.Cascade, sizes map[string]int64, maxMemory string) error {
	budget, err := memoryBudget(maxMemory)
	if err != nil {
		return err
	}
	f, err := interp.FootprintOf(c, sizes)
	if err != nil {
		return err
	}
	return f.Check(c.Name, budget)
}

func memoryBudget(flag string) (int64, error) {
	if flag != "" {
		b, err := interp.ParseBytes(flag)
		if err != nil {
			return 0, usagef("--max-memory: %v", err)
		}
		return b, nil
	}
	if b, ok := interp.MachineMemory(); ok {
		return b, nil
	}
	return fallbackMemory, nil
}
