package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// isCobraUsage recognises the errors cobra itself returns for a bad command
// line (unknown command, wrong number of arguments), which it does not type.
func isCobraUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "unknown flag", "unknown shorthand", "invalid argument", "flag needs an argument", "required flag"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// strictGroups makes every command that only groups subcommands (completion)
// reject an argument that names none of them: cobra accepts it below the
// root, prints the help and exits 0, so `completion tcsh` looked like
// success.
func strictGroups(c *cobra.Command) {
	c.InitDefaultCompletionCmd()
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.HasSubCommands() && !c.Runnable() && c.HasParent() {
			c.Args = func(cmd *cobra.Command, args []string) error {
				if len(args) == 0 {
					return nil
				}
				var names []string
				for _, s := range cmd.Commands() {
					if s.IsAvailableCommand() {
						names = append(names, s.Name())
					}
				}
				return usagef("%s: unknown command %q (choose one of: %s)", cmd.CommandPath(), args[0], strings.Join(names, ", "))
			}
			c.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(c)
}
