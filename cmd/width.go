package cmd

import (
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// A column of a text table and how it gives way on a narrow terminal.
type column struct {
	Header string
	// Priority 1 columns are always shown; when even the narrowest form of
	// the table is wider than the terminal, the column with the highest
	// number is dropped first (on a tie, the rightmost).
	Priority int
	// Min is the narrowest a shrinkable column gets (never below its header).
	Min    int
	Shrink shrink
}

// shrink says how a cell is fitted into a narrower column.
type shrink int

const (
	keepWidth shrink = iota // never shortened (dropped instead)
	cutEnd                  // "CN=contoso.com Lab R..."
	cutStart                // "...certs/cmg-server.pfx": for paths
	wrapWords               // wrapped onto more lines: for long prose
)

// ellipsis is ASCII: legacy Windows consoles show "…" as garbage.
const ellipsis = "..."

// tableWidth is the display width of an ASCII table with these column
// widths: "| " + cell + " " per column, and the closing "|".
func tableWidth(ws []int) int {
	n := 1
	for _, w := range ws {
		n += w + 3
	}
	return n
}

// fitColumns decides which columns to show (indices into cols, in order)
// and how wide each is, so that the table fits in width display columns
// (width <= 0: unlimited, every column at its natural width).
//
// First, while the table with every shrinkable column at its minimum is
// still too wide, the least important column is dropped (never priority 1).
// Then the shrinkable columns give up width, least important first, each
// down to its minimum, until the table fits. A table whose priority 1
// columns alone do not fit is rendered with them at their minimum.
func fitColumns(cols []column, rows [][]string, width int) (keep, widths []int) {
	natural := make([]int, len(cols))
	least := make([]int, len(cols))
	for i, c := range cols {
		natural[i] = cellWidth(c.Header)
		for _, r := range rows {
			if i < len(r) {
				natural[i] = max(natural[i], cellWidth(r[i]))
			}
		}
		least[i] = natural[i]
		if c.Shrink != keepWidth {
			least[i] = min(natural[i], max(c.Min, cellWidth(c.Header), len(ellipsis)+1))
		}
	}
	for i := range cols {
		keep = append(keep, i)
	}
	if width <= 0 {
		return keep, natural
	}
	pick := func(ws []int) []int {
		out := make([]int, len(keep))
		for j, i := range keep {
			out[j] = ws[i]
		}
		return out
	}
	for tableWidth(pick(least)) > width {
		drop := -1
		for j, i := range keep {
			if cols[i].Priority > 1 && (drop < 0 || cols[i].Priority >= cols[keep[drop]].Priority) {
				drop = j
			}
		}
		if drop < 0 {
			break
		}
		keep = append(keep[:drop], keep[drop+1:]...)
	}
	widths = pick(natural)
	excess := tableWidth(widths) - width
	order := make([]int, len(keep)) // positions in keep, least important first
	for j := range order {
		order[j] = len(keep) - 1 - j
	}
	sort.SliceStable(order, func(a, b int) bool { return cols[keep[order[a]]].Priority > cols[keep[order[b]]].Priority })
	for _, j := range order {
		if excess <= 0 {
			break
		}
		cut := min(excess, widths[j]-least[keep[j]])
		widths[j] -= cut
		excess -= cut
	}
	return keep, widths
}

// fitTable applies fitColumns: it returns the header and rows of the shown
// columns with every cell shortened or wrapped to its column's width.
func fitTable(cols []column, rows [][]string, width int) ([]string, [][]string) {
	keep, widths := fitColumns(cols, rows, width)
	header := make([]string, len(keep))
	for j, i := range keep {
		header[j] = cols[i].Header
	}
	out := make([][]string, len(rows))
	for r, row := range rows {
		out[r] = make([]string, len(keep))
		for j, i := range keep {
			if i < len(row) {
				out[r][j] = fitCell(row[i], widths[j], cols[i].Shrink)
			}
		}
	}
	return header, out
}

func fitCell(s string, w int, how shrink) string {
	if cellWidth(s) <= w {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		switch how {
		case cutEnd:
			lines[i] = cutRight(l, w)
		case cutStart:
			lines[i] = cutLeft(l, w)
		case wrapWords:
			lines[i] = strings.Join(wrap(l, w), "\n")
		}
	}
	return strings.Join(lines, "\n")
}

// cellWidth is the display width of the widest line of s.
func cellWidth(s string) int {
	w := 0
	for _, l := range strings.Split(s, "\n") {
		w = max(w, twwidth.Width(l))
	}
	return w
}

// cutRight keeps the start of s and ends it with "..." within w columns.
func cutRight(s string, w int) string {
	if twwidth.Width(s) <= w {
		return s
	}
	return prefix(s, w-len(ellipsis)) + ellipsis
}

// prefix is the longest start of s at most w columns wide.
func prefix(s string, w int) string {
	n := 0
	for i, r := range s {
		rw := twwidth.Width(string(r))
		if n+rw > w {
			return s[:i]
		}
		n += rw
	}
	return s
}

// cutLeft keeps the end of s and starts it with "..." within w columns.
func cutLeft(s string, w int) string {
	if twwidth.Width(s) <= w {
		return s
	}
	rs := []rune(s)
	n, start := 0, len(rs)
	for start > 0 {
		rw := twwidth.Width(string(rs[start-1]))
		if n+rw > w-len(ellipsis) {
			break
		}
		start--
		n += rw
	}
	return ellipsis + string(rs[start:])
}

// wrap breaks s into lines of at most w columns at spaces; a word longer
// than w is cut.
func wrap(s string, w int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		for twwidth.Width(word) > w {
			if line != "" {
				lines = append(lines, line)
				line = ""
			}
			head := prefix(word, w)
			if head == "" { // a character wider than w
				head = string([]rune(word)[:1])
			}
			lines = append(lines, head)
			word = word[len(head):]
		}
		switch {
		case line == "":
			line = word
		case twwidth.Width(line)+1+twwidth.Width(word) <= w:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}

// terminal reports whether stdout is a terminal and how wide it is (0:
// unknown). $COLUMNS, when set to a positive number, overrides the measured
// width; output that is not a terminal is never fitted.
func terminal(f *os.File, getenv func(string) string) (tty bool, width int) {
	fd := int(f.Fd())
	if !term.IsTerminal(fd) {
		return false, 0
	}
	if w, _, err := term.GetSize(fd); err == nil && w > 0 {
		width = w
		if runtime.GOOS == "windows" {
			// conhost moves to the next line after writing the last column,
			// so a full-width line would be followed by an empty one.
			width--
		}
	}
	if n, err := strconv.Atoi(strings.TrimSpace(getenv("COLUMNS"))); err == nil && n > 0 {
		width = n
	}
	return true, width
}

// tableWidthLimit is the width text tables are fitted to: the terminal's,
// unless stdout is not a terminal or --wide was given.
func (f *Factory) tableWidthLimit() int {
	if !f.IO.OutIsTTY || f.wide {
		return 0
	}
	return f.IO.TermWidth
}

// addWideFlags gives every command with a text table (those with --output)
// a --wide flag.
func addWideFlags(c *cobra.Command, f *Factory) {
	// version prints one line, not a table.
	if c.Flags().Lookup("output") != nil && c.Flags().Lookup("wide") == nil && c.Name() != "version" {
		c.Flags().BoolVar(&f.wide, "wide", false, "text output: show every table column in full (default: fit the table to the terminal width)")
	}
	for _, sub := range c.Commands() {
		addWideFlags(sub, f)
	}
}

// The tables and how they give way, most important columns first.
var (
	// lab create, ca init, issue: at 80 columns ROLE, NAME, SUBJECT and
	// EXPIRES remain; at 120 also KEY and a shortened thumbprint.
	entryColumns = []column{
		{Header: "ROLE", Priority: 1},
		{Header: "NAME", Priority: 1, Min: 12, Shrink: cutEnd},
		{Header: "SUBJECT", Priority: 2, Min: 16, Shrink: cutEnd},
		{Header: "SANS", Priority: 5, Min: 24, Shrink: cutEnd},
		{Header: "KEY", Priority: 4},
		{Header: "EXPIRES", Priority: 1},
		{Header: "SHA-1 THUMBPRINT", Priority: 3, Min: 16, Shrink: cutEnd},
		{Header: "FILE", Priority: 6, Min: 16, Shrink: cutStart},
	}
	profileListColumns = []column{
		{Header: "PROFILE", Priority: 1},
		{Header: "EKU", Priority: 3, Min: 15, Shrink: cutEnd},
		{Header: "KEYS", Priority: 4, Min: 16, Shrink: cutEnd},
		{Header: "AD CS TEMPLATE", Priority: 5, Min: 16, Shrink: cutEnd},
		{Header: "SUMMARY", Priority: 2, Min: 24, Shrink: cutEnd},
	}
	// profiles show is a detail view: its cells wrap instead of being cut.
	profileShowColumns = []column{
		{Header: "REQUIREMENT", Priority: 1},
		{Header: "VALUE", Priority: 1, Min: 25, Shrink: wrapWords},
		{Header: "SOURCE", Priority: 2, Min: 24, Shrink: wrapWords},
	}
	revokeColumns = []column{
		{Header: "ISSUER", Priority: 6, Min: 10, Shrink: cutEnd},
		{Header: "SERIAL", Priority: 1},
		{Header: "SUBJECT", Priority: 3, Min: 12, Shrink: cutEnd},
		{Header: "ROLE", Priority: 4},
		{Header: "STATUS", Priority: 1},
		{Header: "REVOKED AT", Priority: 5},
		{Header: "REASON", Priority: 2},
	}
	crlColumns = []column{
		{Header: "CA", Priority: 1},
		{Header: "NUMBER", Priority: 1},
		{Header: "THIS UPDATE", Priority: 4},
		{Header: "NEXT UPDATE", Priority: 1},
		{Header: "ENTRIES", Priority: 2},
		{Header: "FILE", Priority: 3, Min: 16, Shrink: cutStart},
	}
)
