package ca

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cmgpki/cmgpki/internal/layout"
	"github.com/cmgpki/cmgpki/profiles"
)

// LabSpec describes a lab. The zero value plus Defaults() is the default lab
// for contoso.com. It is read from flags or from a YAML spec file
// (testdata/lab.yaml documents every key).
type LabSpec struct {
	Domain    string `yaml:"domain"`
	BaseURL   string `yaml:"base_url"`
	KeyType   string `yaml:"key_type"`    // key type of every certificate (default rsa2048)
	CAKeyType string `yaml:"ca_key_type"` // key type of the CAs (default: key_type)
	IssuingCA *bool  `yaml:"issuing_ca"`  // default true
	PFXFormat string `yaml:"pfx_format"`  // "" = each profile's default
	CMG       Named  `yaml:"cmg"`
	MP        Named  `yaml:"mp"`
	CP        Named  `yaml:"connection_point"`
	Clients   *int   `yaml:"clients"` // default 1
	Devices   *int   `yaml:"devices"` // default 1
	// Certificates are extra certificates beyond the standard set.
	Certificates []CertSpec `yaml:"certificates"`

	// CAOnly makes only the CAs (cmgpki ca init): root, the issuing CA
	// unless IssuingCA is false, and the WPJ CA unless NoWPJCA.
	CAOnly  bool `yaml:"-"`
	NoWPJCA bool `yaml:"-"`

	// Source is the spec file path, "" for flags; errors name it.
	Source string `yaml:"-"`
	// FromFlags marks the spec keys ("cmg.cn", "key_type", ...) that a flag
	// set, so their errors name the flag rather than the file.
	FromFlags map[string]bool `yaml:"-"`
}

// Named overrides the names of one standard certificate.
type Named struct {
	CN   string   `yaml:"cn"`
	SANs []string `yaml:"sans"`
}

// CertSpec is one certificate of the lab.
type CertSpec struct {
	Name      string        `yaml:"name"`
	Profile   string        `yaml:"profile"`
	CN        string        `yaml:"cn"`
	SANs      []string      `yaml:"sans"`
	KeyType   string        `yaml:"key_type"`
	Validity  time.Duration `yaml:"validity"`
	PFXFormat string        `yaml:"pfx_format"`

	profile *profiles.Profile
	keyType profiles.KeyType
	issuer  string
	key     string    // spec key of this certificate, e.g. "certificates[2]"
	flags   certFlags // the flags that stand for its keys
}

// certFlags names, for one certificate, the flag (or argument) that stands
// for each of its spec keys; "" means none: the value came from a spec file.
type certFlags struct{ Name, Profile, CN, SAN, KeyType, Validity string }

// issueFlags are the flags of "cmgpki issue".
var issueFlags = certFlags{Name: "--name", Profile: "PROFILE argument", CN: "--cn", SAN: "--san", KeyType: "--key-type", Validity: "--validity"}

// SpecError is bad input in a lab spec or the flags that stand for it. It
// names the flag or the file and key.
type SpecError struct {
	Source string // spec file, or "" for flags
	Key    string // spec key, e.g. "cmg.cn"
	Flag   string // flag, e.g. "--cmg-name"
	Err    error
}

func (e *SpecError) Error() string {
	if e.Source != "" {
		return fmt.Sprintf("%s: %s: %v", e.Source, e.Key, e.Err)
	}
	if e.Flag != "" {
		return fmt.Sprintf("%s: %v", e.Flag, e.Err)
	}
	return e.Err.Error()
}

func (e *SpecError) Unwrap() error { return e.Err }

// ReadSpec reads a YAML lab spec. Unknown keys are an error naming the line
// and the closest valid key, and so is a second YAML document ("---"): a
// spec is one document, and the rest would be silently ignored.
func ReadSpec(path string) (*LabSpec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &SpecError{Source: path, Key: "(file)", Err: err}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &SpecError{Source: path, Key: "(file)", Err: errors.New("holds no YAML document (the file is empty)")}
		}
		return nil, yamlError(path, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, yamlError(path, err)
	case len(extra.Content) == 1 && extra.Content[0].Tag == "!!null":
		// a trailing "---" with nothing after it
	default:
		return nil, &SpecError{Source: path, Key: fmt.Sprintf("line %d", extra.Line),
			Err: errors.New("a second YAML document starts here (---); a lab spec is one document, so merge them into one")}
	}
	if err := checkKeys(&doc, reflect.TypeFor[LabSpec](), ""); err != nil {
		err.Source = path
		return nil, err
	}
	var s LabSpec
	if err := doc.Decode(&s); err != nil {
		return nil, yamlError(path, err)
	}
	s.Source = path
	return &s, nil
}

// yamlError turns a yaml.v3 error ("yaml: unmarshal errors:\n  line 5: ...")
// into a SpecError naming the file and line.
func yamlError(path string, err error) *SpecError {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = strings.Join(te.Errors, "; ")
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if line, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(line, "line ") {
		return &SpecError{Source: path, Key: line, Err: errors.New(rest)}
	}
	return &SpecError{Source: path, Key: "(yaml)", Err: errors.New(msg)}
}

// checkKeys reports the first mapping key of n that has no field in t (a
// struct, or a slice or pointer of one), with the closest valid key.
func checkKeys(n *yaml.Node, t reflect.Type, path string) *SpecError {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := checkKeys(c, t, path); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		if t.Kind() != reflect.Slice {
			return nil // a type error, reported by Decode
		}
		for i, c := range n.Content {
			if err := checkKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		if t.Kind() != reflect.Struct {
			return nil
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if f.IsExported() && name != "" && name != "-" {
				fields[name] = f.Type
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				where := ""
				if path != "" {
					where = " in " + path
				}
				return &SpecError{Key: fmt.Sprintf("line %d", k.Line),
					Err: fmt.Errorf("unknown key %q%s (%s)", k.Value, where, suggestKey(k.Value, fields))}
			}
			sub := k.Value
			if path != "" {
				sub = path + "." + k.Value
			}
			if err := checkKeys(v, ft, sub); err != nil {
				return err
			}
		}
	}
	return nil
}

// suggestKey names the closest valid key, or lists them all.
func suggestKey(k string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	best, bestD := "", 3
	lk := strings.ToLower(k)
	for _, n := range names {
		d := editDistance(lk, n)
		if short := min(len(lk), len(n)); short >= 2 && (strings.HasPrefix(lk, n) || strings.HasPrefix(n, lk)) {
			d = min(d, 2) // "cname" for "cn", "cert" for "certificates"
		}
		if d < bestD {
			best, bestD = n, d
		}
	}
	if best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return "valid keys: " + strings.Join(names, ", ")
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func (s *LabSpec) errf(key, flag, format string, args ...any) error {
	src := s.Source
	if s.FromFlags[key] || s.FromFlags[strings.SplitN(key, ".", 2)[0]] {
		src = ""
	}
	return &SpecError{Source: src, Key: key, Flag: flag, Err: fmt.Errorf(format, args...)}
}

// Expanded is a checked spec: the CAs and certificates to make.
type Expanded struct {
	Domain    string
	BaseURL   string
	IssuingCA bool
	KeyType   profiles.KeyType
	CAKeyType profiles.KeyType
	PFXFormat string
	Certs     []CertSpec
	HasWPJ    bool
	// Notes say where a lab-wide setting does not apply (a key type a role
	// cannot take); cmd prints them as "Note:" lines.
	Notes []string

	wpjKeyNoted bool
}

// origin names where a spec key's value came from: its flag, or the file and key.
func (s *LabSpec) origin(key, flag, value string) string {
	if s.Source == "" || s.FromFlags[key] {
		return flag + " " + value
	}
	return fmt.Sprintf("%s: %s %s", s.Source, key, value)
}

// Expand applies defaults, checks every name, key type and profile, and
// lists the certificates. Errors are *SpecError.
func (s *LabSpec) Expand() (*Expanded, error) {
	x := &Expanded{Domain: strings.ToLower(strings.TrimSpace(s.Domain)), IssuingCA: true}
	if x.Domain == "" {
		x.Domain = "contoso.com"
	}
	if err := profiles.CheckDNSName(x.Domain, false); err != nil {
		return nil, s.errf("domain", "--domain", "%v", err)
	}
	base := s.BaseURL
	if base == "" {
		base = layout.DefaultBaseURL
	}
	var err error
	if x.BaseURL, err = layout.ParseBaseURL(base); err != nil {
		return nil, s.errf("base_url", "--base-url", "%v", err)
	}
	if s.IssuingCA != nil {
		x.IssuingCA = *s.IssuingCA
	}
	x.KeyType = profiles.RSA2048
	if s.KeyType != "" {
		if x.KeyType, err = profiles.ParseKeyType(s.KeyType); err != nil {
			return nil, s.errf("key_type", "--key-type", "%v", err)
		}
	}
	x.CAKeyType = x.KeyType
	if s.CAKeyType != "" {
		if x.CAKeyType, err = profiles.ParseKeyType(s.CAKeyType); err != nil {
			return nil, s.errf("ca_key_type", "--ca-key-type", "%v", err)
		}
	}
	if s.PFXFormat != "" {
		if f := strings.ToLower(s.PFXFormat); f != "legacy" && f != "modern" {
			return nil, s.errf("pfx_format", "--pfx-format", "unknown PFX format %q (want legacy or modern)", s.PFXFormat)
		}
		x.PFXFormat = strings.ToLower(s.PFXFormat)
	}
	if s.CAOnly {
		x.HasWPJ = !s.NoWPJCA
		x.noteWPJCAKey(s)
		return x, nil
	}
	d := x.Domain
	std := []struct {
		n       Named
		name    string
		profile profiles.Role
		cn      string
		sans    []string
		key     string
		flags   certFlags
	}{
		{s.CMG, "cmg-server", profiles.CMGServer, "cmg." + d, nil, "cmg", certFlags{CN: "--cmg-name"}},
		{s.MP, "mp-https", profiles.MPHTTPS, "mp." + d, []string{"mp." + d, "mp01.corp." + d}, "mp", certFlags{CN: "--mp-name", SAN: "--mp-san"}},
		{s.CP, "cmg-connection-point", profiles.CMGConnectionPoint, "cmgcp01.corp." + d, nil, "connection_point", certFlags{CN: "--cp-name"}},
	}
	for _, c := range std {
		cs := CertSpec{Name: c.name, Profile: string(c.profile), CN: c.cn, SANs: c.sans}
		if c.n.CN != "" {
			cs.CN, cs.SANs = strings.TrimSpace(c.n.CN), nil
		}
		if len(c.n.SANs) > 0 {
			cs.SANs = c.n.SANs
		}
		if err := x.add(s, cs, c.key, c.flags); err != nil {
			return nil, err
		}
	}
	clients, devices := 1, 1
	if s.Clients != nil {
		clients = *s.Clients
	}
	if s.Devices != nil {
		devices = *s.Devices
	}
	if clients < 0 || clients > 100000 {
		return nil, s.errf("clients", "--clients", "must be between 0 and 100000, got %d", clients)
	}
	if devices < 0 || devices > 100000 {
		return nil, s.errf("devices", "--devices", "must be between 0 and 100000, got %d", devices)
	}
	for i := 1; i <= clients; i++ {
		name := fmt.Sprintf("client%0*d", width(clients), i)
		if err := x.add(s, CertSpec{Name: name, Profile: string(profiles.PKIClient), CN: name + "." + d}, "clients", certFlags{Name: "--clients", CN: "--clients", SAN: "--clients"}); err != nil {
			return nil, err
		}
	}
	for i := 1; i <= devices; i++ {
		name := fmt.Sprintf("device%0*d", width(devices), i)
		if err := x.add(s, CertSpec{Name: name, Profile: string(profiles.WPJDevice)}, "devices", certFlags{Name: "--devices", CN: "--devices"}); err != nil {
			return nil, err
		}
	}
	for i, c := range s.Certificates {
		if err := x.add(s, c, fmt.Sprintf("certificates[%d]", i), certFlags{}); err != nil {
			return nil, err
		}
	}
	x.noteWPJCAKey(s)
	return x, nil
}

// noteWPJCAKey notes that the WPJ CA stays RSA when the CAs' key type is one
// it cannot take (Entra's MS-Organization-Access CA is RSA).
func (x *Expanded) noteWPJCAKey(s *LabSpec) {
	p := profiles.MustGet(profiles.WPJCA)
	if !x.HasWPJ || p.AllowsKey(x.CAKeyType) {
		return
	}
	from := s.origin("key_type", "--key-type", s.KeyType)
	if s.CAKeyType != "" {
		from = s.origin("ca_key_type", "--ca-key-type", s.CAKeyType)
	}
	how := "set devices to 0 (--devices 0) for a lab without it"
	if s.CAOnly {
		how = "pass --no-wpj-ca for a lab without it"
	}
	x.Notes = append(x.Notes, fmt.Sprintf("the wpj-ca is %s: %s does not apply to it, as Entra's MS-Organization-Access CA is RSA (%s); %s",
		profiles.RSA2048, from, p.Keys.Cite, how))
}

func width(n int) int {
	w := 2
	for v := 100; v <= n; v *= 10 {
		w++
	}
	return w
}

// add checks one certificate spec and appends it. key is its spec key
// ("mp", "certificates[2]"); fl names the flags that stand for its keys.
func (x *Expanded) add(s *LabSpec, c CertSpec, key string, fl certFlags) error {
	c.key, c.flags = key, fl
	p, err := profiles.Get(c.Profile)
	if err != nil {
		return s.errf(key+".profile", fl.Profile, "%v", err)
	}
	if p.IsCA {
		return s.errf(key+".profile", fl.Profile, "profile %s is a CA profile; lab CAs are made by the lab itself", p.Role)
	}
	if err := ValidCertName(c.Name); err != nil {
		return s.errf(key+".name", fl.Name, "%v", err)
	}
	for _, o := range x.Certs {
		if o.Name == c.Name {
			return s.errf(key+".name", fl.Name, "certificate name %q is used twice", c.Name)
		}
	}
	c.profile = p
	c.keyType = x.KeyType
	if !p.AllowsKey(c.keyType) {
		c.keyType = MustRecipe(p.Role).DefaultKey // the lab-wide type does not fit this role
		if s.KeyType != "" && c.KeyType == "" {
			if p.Role != profiles.WPJDevice {
				return s.errf("key_type", "--key-type", "%v", p.CheckKeyType(x.KeyType))
			}
			if !x.wpjKeyNoted {
				x.wpjKeyNoted = true
				x.Notes = append(x.Notes, fmt.Sprintf("%s does not apply to wpj-device certificates: they are %s, as Entra's device registration service issues them (%s)",
					s.origin("key_type", "--key-type", s.KeyType), MustRecipe(p.Role).DefaultKey, p.Keys.Cite))
			}
		}
	}
	if c.KeyType != "" {
		k, err := profiles.ParseKeyType(c.KeyType)
		if err != nil {
			return s.errf(key+".key_type", fl.KeyType, "%v", err)
		}
		if err := p.CheckKeyType(k); err != nil {
			return s.errf(key+".key_type", fl.KeyType, "%v", err)
		}
		c.keyType = k
	}
	if c.Validity < 0 {
		return s.errf(key+".validity", fl.Validity, "validity %s is negative; give a positive duration such as 8760h (or none for the profile's %s)", hours(c.Validity), hours(MustRecipe(p.Role).Validity))
	}
	if c.Validity > 0 && c.Validity < time.Minute {
		return s.errf(key+".validity", fl.Validity, "validity %s is shorter than a minute (certificate times are whole seconds)", c.Validity)
	}
	if c.PFXFormat == "" {
		c.PFXFormat = x.PFXFormat
	}
	if c.PFXFormat == "" {
		c.PFXFormat = MustRecipe(p.Role).PFX.DefaultFormat
	}
	if field, err := checkNames(p, c.CN, c.SANs); err != nil {
		if field == "sans" {
			return s.errf(key+".sans", fl.SAN, "%v", err)
		}
		return s.errf(key+".cn", fl.CN, "%v", err)
	}
	if p.Names.Rule == profiles.NamesFQDN && len(c.SANs) == 0 {
		c.SANs = []string{c.CN}
	}
	c.SANs = x.dedupeSANs(s, c, key, fl)
	c.issuer = "issuing-ca"
	if !x.IssuingCA {
		c.issuer = "root-ca"
	}
	if p.Role == profiles.WPJDevice {
		c.issuer = "wpj-ca"
		x.HasWPJ = true
	}
	x.Certs = append(x.Certs, c)
	return nil
}

// dedupeSANs drops a SAN that repeats an earlier one, ignoring case (DNS
// names are case-insensitive, RFC 4343), and notes it.
func (x *Expanded) dedupeSANs(s *LabSpec, c CertSpec, key string, fl certFlags) []string {
	var out []string
	seen := map[string]string{}
	for _, n := range c.SANs {
		if first, dup := seen[strings.ToLower(n)]; dup {
			where := s.origin(key+".sans", fl.SAN, n)
			if fl.SAN == "" && s.Source == "" {
				where = key + ".sans " + n
			}
			x.Notes = append(x.Notes, fmt.Sprintf("%s repeats the SAN %s of certificate %s (DNS names ignore case); it is written once", where, first, c.Name))
			continue
		}
		seen[strings.ToLower(n)] = n
		out = append(out, n)
	}
	return out
}

// checkValidity refuses, before anything is made, a certificate that would
// outlive its issuer; issuerNotAfter gives each CA's notAfter by name.
func (x *Expanded) checkValidity(s *LabSpec, c CertSpec, nb time.Time, issuer string, issuerNotAfter time.Time) error {
	d := c.Validity
	what := "validity " + hours(d)
	if d == 0 {
		d = MustRecipe(c.profile.Role).Validity
		what = "the profile's default validity " + hours(d)
	}
	end := nb.Add(d).UTC().Truncate(time.Second)
	if !end.After(issuerNotAfter) {
		return nil
	}
	return s.errf(c.key+".validity", c.flags.Validity, "%s certificate %s: %s would end %s, after its issuer %s (%s); give a validity of at most %s",
		c.profile.Role, c.Name, what, end.Format(time.RFC3339), issuer, issuerNotAfter.UTC().Format(time.RFC3339), hours(issuerNotAfter.Sub(nb).Truncate(time.Hour)))
}

// hours renders a duration of whole hours as "8760h", others as Go does.
func hours(d time.Duration) string {
	if d != 0 && d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

// ValidCertName checks a certificate's name (its file name in the lab).
func ValidCertName(n string) error {
	if err := layout.ValidCAName(n); err != nil {
		return fmt.Errorf("certificate name %q must be 1-63 lower-case letters, digits or dashes", n)
	}
	return nil
}

// CheckNames checks a CN and SANs against the role's name rule before
// anything is generated, so bad input fails with a usage error naming it.
func CheckNames(p *profiles.Profile, cn string, sans []string) error {
	_, err := checkNames(p, cn, sans)
	return err
}

// checkNames is CheckNames that also says which field is wrong: "cn" or "sans".
func checkNames(p *profiles.Profile, cn string, sans []string) (string, error) {
	switch p.Names.Rule {
	case profiles.NamesGUID:
		if cn != "" && !profiles.IsGUID(cn) {
			return "cn", fmt.Errorf("%s CN %q must be a device GUID (or empty for a generated one)", p.Role, cn)
		}
		if len(sans) > 0 {
			return "sans", fmt.Errorf("%s certificates have no SAN", p.Role)
		}
		return "", nil
	case profiles.NamesFQDN:
		if cn == "" {
			return "cn", fmt.Errorf("%s needs a CN (an FQDN)", p.Role)
		}
		if err := profiles.CheckDNSName(cn, p.Names.AllowWildcard); err != nil {
			return "cn", err
		}
		for _, n := range sans {
			if err := profiles.CheckDNSName(n, p.Names.AllowWildcard); err != nil {
				return "sans", err
			}
		}
		if p.Role == profiles.CMGServer {
			return "cn", profiles.CheckCMGServiceName(cn)
		}
	default:
		if cn == "" {
			return "cn", fmt.Errorf("%s needs a CN", p.Role)
		}
		for _, n := range sans {
			if err := profiles.CheckDNSName(n, false); err != nil {
				return "sans", err
			}
		}
	}
	return "", nil
}
