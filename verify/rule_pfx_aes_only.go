package verify

import "github.com/cmgpki/cmgpki/lint"

// Windows Server 2016 and older cannot import a PFX encrypted with AES
// (PBES2) and report a misleading wrong-password error; Export-PfxCertificate
// writes TripleDES-SHA1 by default and AES-256 only on request ([PFXCMD];
// cmg-reference.md §9; failure F14). Whether the CMG console host hits it is
// UNCONFIRMED, and a newer host imports the file: a warning.
func init() {
	inputRules.Register(lint.Rule[InputSubject]{
		Meta: lint.Meta{
			Name:        "w_pfx_aes_only",
			Description: "a PFX encrypted with AES only cannot be imported on Windows Server 2016 and older",
			Citation:    lint.Cite(lint.SrcPFXCmd, "-CryptoAlgorithmOption: TripleDES_SHA1 (default) or AES256_SHA256"),
			Fix:         "where the importing host is Server 2016 or older, export the PFX with TripleDES-SHA1 (Export-PfxCertificate -CryptoAlgorithmOption TripleDES_SHA1, or openssl pkcs12 -export -legacy)",
		},
		Applies: func(s InputSubject) bool { return s.PFX != nil },
		Check: func(s InputSubject, _ lint.Env) lint.Outcome {
			if s.PFX.AESOnly() {
				return lint.Failf("%s is protected with AES only (%s): Windows Server 2016 and older report a wrong password on import", s.Name, s.PFX.String())
			}
			return lint.PassOutcome
		},
	})
}
