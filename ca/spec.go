package ca

import (
	"fmt"
	"os"
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
}

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

// ReadSpec reads a YAML lab spec; unknown keys are an error.
func ReadSpec(path string) (*LabSpec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &SpecError{Source: path, Key: "(file)", Err: err}
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	var s LabSpec
	if err := dec.Decode(&s); err != nil {
		return nil, &SpecError{Source: path, Key: "(yaml)", Err: err}
	}
	s.Source = path
	return &s, nil
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
		flag    string
	}{
		{s.CMG, "cmg-server", profiles.CMGServer, "cmg." + d, nil, "cmg", "--cmg-name"},
		{s.MP, "mp-https", profiles.MPHTTPS, "mp." + d, []string{"mp." + d, "mp01.corp." + d}, "mp", "--mp-name"},
		{s.CP, "cmg-connection-point", profiles.CMGConnectionPoint, "cmgcp01.corp." + d, nil, "connection_point", "--cp-name"},
	}
	for _, c := range std {
		cs := CertSpec{Name: c.name, Profile: string(c.profile), CN: c.cn, SANs: c.sans}
		if c.n.CN != "" {
			cs.CN, cs.SANs = strings.TrimSpace(c.n.CN), nil
		}
		if len(c.n.SANs) > 0 {
			cs.SANs = c.n.SANs
		}
		if err := x.add(s, cs, c.key+".cn", c.flag); err != nil {
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
		if err := x.add(s, CertSpec{Name: name, Profile: string(profiles.PKIClient), CN: name + "." + d}, "clients", "--clients"); err != nil {
			return nil, err
		}
	}
	for i := 1; i <= devices; i++ {
		name := fmt.Sprintf("device%0*d", width(devices), i)
		if err := x.add(s, CertSpec{Name: name, Profile: string(profiles.WPJDevice)}, "devices", "--devices"); err != nil {
			return nil, err
		}
	}
	for i, c := range s.Certificates {
		if err := x.add(s, c, fmt.Sprintf("certificates[%d]", i), ""); err != nil {
			return nil, err
		}
	}
	return x, nil
}

func width(n int) int {
	w := 2
	for v := 100; v <= n; v *= 10 {
		w++
	}
	return w
}

// add checks one certificate spec and appends it.
func (x *Expanded) add(s *LabSpec, c CertSpec, key, flag string) error {
	p, err := profiles.Get(c.Profile)
	if err != nil {
		return s.errf(key+".profile", flag, "%v", err)
	}
	if p.IsCA {
		return s.errf(key+".profile", flag, "profile %s is a CA profile; lab CAs are made by the lab itself", p.Role)
	}
	if err := ValidCertName(c.Name); err != nil {
		return s.errf(key+".name", flag, "%v", err)
	}
	for _, o := range x.Certs {
		if o.Name == c.Name {
			return s.errf(key+".name", flag, "certificate name %q is used twice", c.Name)
		}
	}
	c.profile = p
	c.keyType = x.KeyType
	if !p.AllowsKey(c.keyType) {
		c.keyType = p.Keys.Default // the lab-wide type does not fit this role
		if s.KeyType != "" && c.KeyType == "" && p.Role != profiles.WPJDevice {
			return s.errf("key_type", "--key-type", "%v", p.CheckKeyType(x.KeyType))
		}
	}
	if c.KeyType != "" {
		k, err := profiles.ParseKeyType(c.KeyType)
		if err != nil {
			return s.errf(key+".key_type", "--key-type", "%v", err)
		}
		if err := p.CheckKeyType(k); err != nil {
			return s.errf(key+".key_type", "--key-type", "%v", err)
		}
		c.keyType = k
	}
	if c.PFXFormat == "" {
		c.PFXFormat = x.PFXFormat
	}
	if c.PFXFormat == "" {
		c.PFXFormat = p.PFX.DefaultFormat
	}
	if err := CheckNames(p, c.CN, c.SANs); err != nil {
		return s.errf(key+".cn", flag, "%v", err)
	}
	if p.Names.Rule == profiles.NamesFQDN && len(c.SANs) == 0 {
		c.SANs = []string{c.CN}
	}
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
	switch p.Names.Rule {
	case profiles.NamesGUID:
		if cn != "" && !profiles.IsGUID(cn) {
			return fmt.Errorf("%s CN %q must be a device GUID (or empty for a generated one)", p.Role, cn)
		}
		if len(sans) > 0 {
			return fmt.Errorf("%s certificates have no SAN", p.Role)
		}
		return nil
	case profiles.NamesFQDN:
		if cn == "" {
			return fmt.Errorf("%s needs a CN (an FQDN)", p.Role)
		}
		if err := profiles.CheckDNSName(cn, p.Names.AllowWildcard); err != nil {
			return err
		}
		for _, n := range sans {
			if err := profiles.CheckDNSName(n, p.Names.AllowWildcard); err != nil {
				return fmt.Errorf("SAN: %w", err)
			}
		}
		if p.Role == profiles.CMGServer {
			return profiles.CheckCMGServiceName(cn)
		}
	default:
		if cn == "" {
			return fmt.Errorf("%s needs a CN", p.Role)
		}
	}
	return nil
}
