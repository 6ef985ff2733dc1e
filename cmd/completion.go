package cmd

import (
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cmgpki/cmgpki/crl"
	"github.com/cmgpki/cmgpki/profiles"
)

// Value lists for shell completion, taken from the packages that parse the
// values, so they cannot drift.

func profileNames() []string { return profiles.Names() }

// issuableProfiles are the profiles "issue" takes: every one but the CAs'.
func issuableProfiles() []string {
	var out []string
	for _, p := range profiles.All() {
		if !p.IsCA {
			out = append(out, string(p.Role))
		}
	}
	return out
}

// issueKeyTypes completes issue's --key-type: the key types the profile
// allows once PROFILE is given, else every key type.
func issueKeyTypes(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	vs := keyTypeNames
	if len(args) > 0 {
		if p, err := profiles.Get(args[0]); err == nil {
			vs = func() []string {
				var out []string
				for _, k := range p.AllowedKeyTypes() {
					out = append(out, string(k))
				}
				return out
			}
		}
	}
	return choices(vs)(c, args, toComplete)
}

func keyTypeNames() []string {
	out := make([]string, len(profiles.KeyTypes))
	for i, k := range profiles.KeyTypes {
		out[i] = string(k)
	}
	return out
}

func reasonNames() []string {
	out := make([]string, 0, len(crl.ReasonNames))
	for n := range crl.ReasonNames {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// choices completes one of vs that starts with what was typed (ignoring
// case, as the flags themselves do), and never a file name.
func choices(vs func() []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		for _, v := range vs() {
			if strings.HasPrefix(strings.ToLower(v), strings.ToLower(toComplete)) {
				out = append(out, v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func directive(d cobra.ShellCompDirective, exts ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return exts, d
	}
}

// flagCompletions completes flag values by flag name, in every command that
// has the flag. A value flag not named here completes nothing (not files).
var flagCompletions = map[string]cobra.CompletionFunc{
	"profile":           choices(profileNames),
	"key-type":          choices(keyTypeNames),
	"ca-key-type":       choices(keyTypeNames),
	"reason":            choices(reasonNames),
	"output":            choices(func() []string { return []string{"text", "json"} }),
	"pfx-format":        choices(func() []string { return []string{"legacy", "modern"} }),
	"lab":               directive(cobra.ShellCompDirectiveFilterDirs),
	"out":               directive(cobra.ShellCompDirectiveFilterDirs),
	"keys":              directive(cobra.ShellCompDirectiveFilterDirs),
	"spec":              directive(cobra.ShellCompDirectiveFilterFileExt, "yaml", "yml"),
	"cert":              directive(cobra.ShellCompDirectiveFilterFileExt, "crt", "cer", "pem", "der"),
	"template":          directive(cobra.ShellCompDirectiveDefault),
	"key-password-file": directive(cobra.ShellCompDirectiveDefault),
	"pfx-password-file": directive(cobra.ShellCompDirectiveDefault),
}

// argCompletions completes the first positional argument by its name in
// the command's Use line ("issue PROFILE ...").
var argCompletions = map[string]cobra.CompletionFunc{
	"PROFILE": choices(profileNames),
}

// completionHelp is the help of the (visible) completion command.
const completionHelp = `Print a script that completes cmgpki's commands, flags and values (profile
names, key types, revocation reasons, --output and --pfx-format values, lab
directories) in your shell. Install it once:

  bash        cmgpki completion bash > /etc/bash_completion.d/cmgpki
              (needs the bash-completion package; or source <(cmgpki completion bash) in ~/.bashrc)
  zsh         cmgpki completion zsh > "${fpath[1]}/_cmgpki"
              (needs "autoload -U compinit; compinit" in ~/.zshrc)
  fish        cmgpki completion fish > ~/.config/fish/completions/cmgpki.fish
  PowerShell  cmgpki completion powershell | Out-String | Invoke-Expression
              (add that line to $PROFILE to keep it; cmgpki.exe on Windows)

Then start a new shell. See "cmgpki completion SHELL --help" for details.`

// registerCompletions makes the completion command visible and walks the
// command tree to register the completion of flag values and positional
// arguments.
func registerCompletions(root *cobra.Command, f *Factory) {
	root.SetOut(f.IO.Out) // the completion command takes its writer when it is made
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Short = "print a shell completion script (bash, zsh, fish, powershell)"
			c.Long = completionHelp
			c.Example = "  cmgpki completion bash > /etc/bash_completion.d/cmgpki\n" +
				"  cmgpki completion zsh > \"${fpath[1]}/_cmgpki\"\n" +
				"  cmgpki completion powershell | Out-String | Invoke-Expression"
			for _, sh := range c.Commands() {
				sh.Short = "print the completion script for " + sh.Name()
			}
		}
	}
	registerValueCompletions(root)
}

func registerValueCompletions(c *cobra.Command) {
	c.Flags().VisitAll(func(fl *pflag.Flag) {
		if fl.Value.Type() == "bool" || hasFlagCompletion(c, fl.Name) {
			return
		}
		fn, ok := flagCompletions[fl.Name]
		if !ok {
			fn = cobra.NoFileCompletions
		}
		_ = c.RegisterFlagCompletionFunc(fl.Name, fn)
	})
	if c.ValidArgsFunction == nil && !c.HasSubCommands() {
		c.ValidArgsFunction = cobra.NoFileCompletions
		if use := strings.Fields(c.Use); len(use) > 1 {
			if fn, ok := argCompletions[use[1]]; ok {
				c.ValidArgsFunction = func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
					if len(args) > 0 {
						return nil, cobra.ShellCompDirectiveNoFileComp
					}
					return fn(c, args, toComplete)
				}
			}
		}
	}
	for _, sub := range c.Commands() {
		registerValueCompletions(sub)
	}
}

func hasFlagCompletion(c *cobra.Command, name string) bool {
	_, ok := c.GetFlagCompletionFunc(name)
	return ok
}
