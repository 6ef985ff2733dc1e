package cmd

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cmgpki/cmgpki/ca"
	"github.com/cmgpki/cmgpki/profiles"
)

func newProfilesCmd(f *Factory) *cobra.Command {
	c := groupCmd("profiles", "list and show certificate role profiles")
	c.Long = "Each profile says what Windows and ConfigMgr demand of one CMG role's certificate, whoever issues it, with the\nMicrosoft source of every requirement and whether it is confirmed. \"profiles show\" also lists what cmgpki itself\nissues for the role (its recipe: keys, validity, revocation pointers, PFX); certificates are never judged by the recipe.\n\n" + exitCodesHelp(ExitOK, ExitUsage)
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
			rc := ca.MustRecipe(p.Role)
			rows := [][]string{
				{"summary", p.Summary, ""},
				{"AD CS template", p.Template, ""},
				{"CA", fmt.Sprint(p.IsCA), ""},
				{"key usage", conf(v.KeyUsage, p.KeyUsage.Spec), p.KeyUsage.Cite.String()},
				{"extended key usage", conf(v.EKU, p.EKU.Spec), p.EKU.Cite.String()},
				{"accepted keys", conf(v.AcceptedKeys, p.Keys.Spec), p.Keys.Cite.String()},
				{"names", conf(p.Names.Rule.String(), p.Names.Spec), p.Names.Cite.String()},
				{"revocation checked", conf(yesNo(p.Revocation.Checked), p.Revocation.Spec), p.Revocation.Cite.String()},
			}
			for _, e := range p.Extensions {
				rows = append(rows, []string{"extension", e.OID.String() + " " + e.Name, e.Cite.String()})
			}
			rows = append(rows,
				[]string{"cmgpki: key usage", v.IssuedKeyUsage, rc.ExtraKeyUsageWhy.Cite.String()},
				[]string{"cmgpki: keys", v.Keys + " (default " + v.DefaultKey + ")", ""},
				[]string{"cmgpki: validity", v.Validity, ""},
				[]string{"cmgpki: CDP/AIA/OCSP", v.Revocation, rc.Why.Cite.String()},
				[]string{"cmgpki: PFX", v.PFX, rc.PFX.Cite.String()},
			)
			for _, n := range []string{p.KeyUsage.Note, p.Keys.Note, p.Names.Note, p.Revocation.Note, rc.Why.Note, rc.PFX.Note} {
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
// key_usage, eku, accepted_keys, names and revocation_checked are the
// requirement; keys, default_key, issued_key_usage, validity, revocation
// and pfx are what cmgpki issues (its recipe).
type profileView struct {
	Name              string   `json:"name"`
	Summary           string   `json:"summary"`
	Template          string   `json:"template"`
	IsCA              bool     `json:"is_ca"`
	KeyUsage          string   `json:"key_usage"`
	EKU               string   `json:"eku"`
	EKUCrit           bool     `json:"eku_critical"`
	AcceptedKeys      string   `json:"accepted_keys"`
	Keys              string   `json:"keys"`
	DefaultKey        string   `json:"default_key"`
	Names             string   `json:"names"`
	RevocationChecked bool     `json:"revocation_checked"`
	Unconfirmed       []string `json:"unconfirmed"`
	IssuedKeyUsage    string   `json:"issued_key_usage"`
	Validity          string   `json:"validity"`
	Revocation        string   `json:"revocation"`
	PFX               string   `json:"pfx"`
	Extensions        []string `json:"extensions"`
	Sources           []string `json:"sources"`
}

func viewProfile(p *profiles.Profile) profileView {
	rc := ca.MustRecipe(p.Role)
	ku, issued := profiles.KeyUsageNames(p.KeyUsage.Required), profiles.KeyUsageNames(p.KeyUsage.Required|rc.ExtraKeyUsage)
	if p.KeyUsage.Omit {
		ku, issued = "(none)", "(none)"
	}
	var rev []string
	for _, x := range []struct {
		on   bool
		name string
	}{{rc.CDP, "CDP"}, {rc.AIA, "AIA"}, {rc.OCSP, "OCSP"}} {
		if x.on {
			rev = append(rev, x.name)
		}
	}
	pfx := "no"
	if rc.PFX.Needed {
		pfx = "yes, default " + rc.PFX.DefaultFormat
	}
	v := profileView{
		Name: string(p.Role), Summary: p.Summary, Template: p.Template, IsCA: p.IsCA,
		KeyUsage: ku, EKU: profiles.EKUNames(p.EKU.Required), EKUCrit: p.EKU.Critical,
		AcceptedKeys: p.Keys.String(),
		Keys:         profiles.JoinKeyTypes(p.AllowedKeyTypes()), DefaultKey: string(rc.DefaultKey),
		Names: p.Names.Rule.String(), RevocationChecked: p.Revocation.Checked, Unconfirmed: []string{},
		IssuedKeyUsage: issued, Validity: days(rc.Validity),
		Revocation: strings.Join(rev, ", "), PFX: pfx, Extensions: []string{},
	}
	if v.Revocation == "" {
		v.Revocation = "(none)"
	}
	if p.EKU.Critical {
		v.EKU += " critical"
	}
	for _, x := range []struct {
		name string
		spec profiles.Spec
	}{{"key_usage", p.KeyUsage.Spec}, {"eku", p.EKU.Spec}, {"accepted_keys", p.Keys.Spec}, {"names", p.Names.Spec}, {"revocation_checked", p.Revocation.Spec}} {
		if x.spec.Unconfirmed() {
			v.Unconfirmed = append(v.Unconfirmed, x.name)
		}
	}
	seen := map[string]bool{}
	for _, c := range []string{p.KeyUsage.Cite.String(), p.EKU.Cite.String(), p.Keys.Cite.String(), p.Names.Cite.String(), p.Revocation.Cite.String(), rc.ExtraKeyUsageWhy.Cite.String(), rc.Why.Cite.String(), rc.PFX.Cite.String()} {
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

// conf marks the value of an UNCONFIRMED requirement.
func conf(v string, s profiles.Spec) string {
	if s.Unconfirmed() {
		return v + " (UNCONFIRMED: at most a warning)"
	}
	return v
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func days(d time.Duration) string {
	n := int(d / (24 * time.Hour))
	if n%365 == 0 {
		return fmt.Sprintf("%d years (%d days)", n/365, n)
	}
	return fmt.Sprintf("%d days", n)
}
