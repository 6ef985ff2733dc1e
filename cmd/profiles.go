package cmd

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cmgpki/cmgpki/profiles"
)

func newProfilesCmd(f *Factory) *cobra.Command {
	c := groupCmd("profiles", "list and show certificate role profiles")
	c.Long = "Each profile says what one CMG role's certificate must be, with the Microsoft source of every requirement.\nThe same profile drives issuing and linting.\n\n" + exitCodesHelp(ExitOK, ExitUsage)
	var out string
	list := &cobra.Command{
		Use:     "list",
		Short:   "list the role profiles",
		Example: "  cmgpki profiles list\n  cmgpki profiles list --output json",
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := outputFormat(out); err != nil {
				return err
			}
			all := profiles.All()
			if out == "json" {
				vs := make([]profileView, len(all))
				for i, p := range all {
					vs[i] = viewProfile(p)
				}
				return renderJSON(f.IO.Out, map[string]any{"schema": "cmgpki/profiles/v1", "profiles": vs})
			}
			var rows [][]string
			for _, p := range all {
				v := viewProfile(p)
				rows = append(rows, []string{v.Name, v.EKU, v.Keys, v.Template, p.Summary})
			}
			return renderTable(f, profileListColumns, rows)
		},
	}
	addOutputFlag(list, &out)
	var showOut string
	show := &cobra.Command{
		Use:     "show PROFILE",
		Short:   "show one profile's requirements and their sources",
		Example: "  cmgpki profiles show cmg-server\n  cmgpki profiles show wpj-device --output json",
		Args:    exactArgs(1, "PROFILE"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := outputFormat(showOut); err != nil {
				return err
			}
			p, err := profiles.Get(args[0])
			if err != nil {
				return &UsageError{Err: err}
			}
			v := viewProfile(p)
			if showOut == "json" {
				return renderJSON(f.IO.Out, map[string]any{"schema": "cmgpki/profile/v1", "profile": v})
			}
			rows := [][]string{
				{"summary", p.Summary, ""},
				{"AD CS template", p.Template, ""},
				{"CA", fmt.Sprint(p.IsCA), ""},
				{"key usage", v.KeyUsage, p.KeyUsage.Cite.String()},
				{"extended key usage", v.EKU, p.EKU.Cite.String()},
				{"keys", v.Keys + " (default " + string(p.Keys.Default) + ")", p.Keys.Cite.String()},
				{"names", p.Names.Rule.String(), p.Names.Cite.String()},
				{"validity", v.Validity, p.Validity.Cite.String()},
				{"revocation pointers", v.Revocation, p.Revocation.Cite.String()},
				{"PFX", v.PFX, p.PFX.Cite.String()},
			}
			for _, e := range p.Extensions {
				rows = append(rows, []string{"extension", e.OID.String() + " " + e.Name, e.Cite.String()})
			}
			for _, n := range []string{p.KeyUsage.Note, p.Names.Note, p.Revocation.Note, p.PFX.Note} {
				if n != "" {
					rows = append(rows, []string{"note", n, ""})
				}
			}
			fmt.Fprintf(f.IO.Out, "Profile %s\n", p.Role)
			return renderTable(f, profileShowColumns, rows)
		},
	}
	addOutputFlag(show, &showOut)
	c.AddCommand(list, show)
	return c
}

// profileView is the JSON form of a profile (schema cmgpki/profile/v1).
type profileView struct {
	Name       string   `json:"name"`
	Summary    string   `json:"summary"`
	Template   string   `json:"template"`
	IsCA       bool     `json:"is_ca"`
	KeyUsage   string   `json:"key_usage"`
	EKU        string   `json:"eku"`
	EKUCrit    bool     `json:"eku_critical"`
	Keys       string   `json:"keys"`
	DefaultKey string   `json:"default_key"`
	Names      string   `json:"names"`
	Validity   string   `json:"validity"`
	Revocation string   `json:"revocation"`
	PFX        string   `json:"pfx"`
	Extensions []string `json:"extensions"`
	Sources    []string `json:"sources"`
}

func viewProfile(p *profiles.Profile) profileView {
	ku := profiles.KeyUsageNames(p.KeyUsage.Required)
	if p.KeyUsage.Omit {
		ku = "(none)"
	}
	var rev []string
	for _, x := range []struct {
		on   bool
		name string
	}{{p.Revocation.CDP, "CDP"}, {p.Revocation.AIA, "AIA"}, {p.Revocation.OCSP, "OCSP"}} {
		if x.on {
			rev = append(rev, x.name)
		}
	}
	pfx := "no"
	if p.PFX.Needed {
		pfx = "yes, default " + p.PFX.DefaultFormat
	}
	v := profileView{
		Name: string(p.Role), Summary: p.Summary, Template: p.Template, IsCA: p.IsCA,
		KeyUsage: ku, EKU: profiles.EKUNames(p.EKU.Required), EKUCrit: p.EKU.Critical,
		Keys: profiles.JoinKeyTypes(p.Keys.Allowed), DefaultKey: string(p.Keys.Default),
		Names: p.Names.Rule.String(), Validity: days(p.Validity.Default),
		Revocation: strings.Join(rev, ", "), PFX: pfx, Extensions: []string{},
	}
	if v.Revocation == "" {
		v.Revocation = "(none)"
	}
	if p.EKU.Critical {
		v.EKU += " critical"
	}
	seen := map[string]bool{}
	for _, c := range []string{p.KeyUsage.Cite.String(), p.EKU.Cite.String(), p.Keys.Cite.String(), p.Names.Cite.String(), p.Validity.Cite.String(), p.Revocation.Cite.String(), p.PFX.Cite.String()} {
		if c != "" && !seen[c] {
			seen[c] = true
			v.Sources = append(v.Sources, c)
		}
	}
	for _, e := range p.Extensions {
		v.Extensions = append(v.Extensions, e.OID.String()+" "+e.Name)
	}
	return v
}

func days(d time.Duration) string {
	n := int(d / (24 * time.Hour))
	if n%365 == 0 {
		return fmt.Sprintf("%d years (%d days)", n/365, n)
	}
	return fmt.Sprintf("%d days", n)
}
