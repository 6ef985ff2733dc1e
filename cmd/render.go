package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"
)

// renderTable writes an ASCII table (safe in legacy Windows consoles) with
// headers as typed to f.IO.Out, fitted to the terminal width unless --wide
// (see fitColumns); output that is not a terminal gets every column in full.
func renderTable(f *Factory, cols []column, rows [][]string) error {
	header, rows := fitTable(cols, rows, f.tableWidthLimit())
	t := tablewriter.NewTable(f.IO.Out,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	t.Header(header)
	if err := t.Bulk(rows); err != nil {
		return err
	}
	return t.Render()
}

// renderJSON writes v as indented JSON.
func renderJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func addOutputFlag(c *cobra.Command, p *string) {
	c.Flags().StringVarP(p, "output", "o", "text", "output format: text (table) or json (stable schema, see README)")
}

// exactArgs is cobra.ExactArgs with a usage error.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return &UsageError{Err: fmt.Errorf("%s: want %s (%s), got %d", c.CommandPath(), plural(n, "argument", "arguments"), what, len(args)), ShowUsage: true}
		}
		return nil
	}
}

func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &UsageError{Err: fmt.Errorf("%s takes no arguments, got %q", c.CommandPath(), strings.Join(args, " ")), ShowUsage: true}
	}
	return nil
}

// groupCmd is a command that only holds subcommands; an unknown subcommand
// is a usage error (exit 2) with cobra's "Did you mean this?" suggestions,
// no subcommand prints help.
func groupCmd(use, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(c, args[0])
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return c.Help() },
	}
}

// unknownCommand is the error for an unknown subcommand of a group, worded
// as cobra words it for the root.
func unknownCommand(c *cobra.Command, arg string) error {
	msg := fmt.Sprintf("unknown command %q for %q", arg, c.CommandPath())
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2 // cobra's default, set lazily only for the root
	}
	if s := c.SuggestionsFor(arg); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	} else {
		var names []string
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				names = append(names, sub.Name())
			}
		}
		msg += " (available: " + strings.Join(names, ", ") + ")"
	}
	return &UsageError{Err: errors.New(msg)}
}

// checkSubcommand finds the command args name before any flag is parsed,
// so "lab craete --out x" is reported as an unknown command with
// suggestions rather than as an unknown flag of "lab". Cobra does this
// itself only for the root.
func checkSubcommand(root *cobra.Command, args []string) error {
	c, rest, err := root.Find(args)
	if err != nil || !c.HasParent() || !c.HasAvailableSubCommands() {
		return nil
	}
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		switch {
		case a == "--":
			if i+1 < len(rest) {
				return unknownCommand(c, rest[i+1])
			}
			return nil
		case a == "-h" || a == "--help":
		case strings.HasPrefix(a, "-"):
			if !strings.Contains(a, "=") {
				i++ // its value, as cobra reads "--flag value"
			}
		default:
			return unknownCommand(c, a)
		}
	}
	return nil
}

// plural renders n with the singular or plural noun: "1 CA", "3 CAs".
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
