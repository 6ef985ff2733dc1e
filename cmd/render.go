package cmd

import (
	"encoding/json"
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
			return &UsageError{Err: fmt.Errorf("%s: want %d argument(s) (%s), got %d", c.CommandPath(), n, what, len(args)), ShowUsage: true}
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
// is a usage error (exit 2), no subcommand prints help.
func groupCmd(use, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &UsageError{Err: fmt.Errorf("unknown command %q for %q", args[0], c.CommandPath()), ShowUsage: true}
			}
			return c.Help()
		},
	}
}
