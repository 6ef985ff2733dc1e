package handshake

import (
	"bytes"
	"compress/zlib"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"regexp"
	"strings"
	"unicode/utf16"
)

// CCM messages in the format public re-implementations document
// (windows-trust.md §4): method CCM_POST, a multipart/mixed body whose first
// part is the <Msg> header in UTF-16 and whose second part is the payload,
// zlib-compressed UTF-16. Replies are plain XML here (the real MP honours
// ReplyCompression="zlib"; modelled).

// msg is the <Msg> header.
type msg struct {
	XMLName          xml.Name `xml:"Msg"`
	SchemaVersion    string   `xml:"SchemaVersion,attr"`
	ReplyCompression string   `xml:"ReplyCompression,attr"`
	ID               string   `xml:"ID"`
	ClientID         string   `xml:"SourceID"`
	Target           string   `xml:"TargetEndpoint"`
	ReplyTo          string   `xml:"ReplyTo"`
}

const ccmPost = "CCM_POST"

// ekuSMSSigning is the EKU of the client's self-signed signing certificate.
var ekuSMSSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 101, 2}

// utf16LE encodes s as UTF-16LE, with a byte order mark when bom is set.
func utf16LE(s string, bom bool) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u)+2)
	if bom {
		b = append(b, 0xFF, 0xFE)
	}
	for _, x := range u {
		b = binary.LittleEndian.AppendUint16(b, x)
	}
	return b
}

func fromUTF16LE(b []byte) (string, error) {
	b = bytes.TrimPrefix(b, []byte{0xFF, 0xFE})
	if len(b)%2 != 0 {
		return "", errors.New("odd UTF-16 length")
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return strings.TrimRight(string(utf16.Decode(u)), "\x00"), nil
}

// encodeMessage builds a CCM_POST body.
func encodeMessage(h msg, payload string) ([]byte, string, error) {
	h.SchemaVersion, h.ReplyCompression, h.ReplyTo = "1.1", "zlib", "direct:OutboundQueue"
	hx, err := xml.Marshal(h)
	if err != nil {
		return nil, "", err
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(utf16LE(payload, true))
	zw.Close()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	p1, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=UTF-16"}})
	p1.Write(utf16LE(string(hx), true))
	p2, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/octet-stream"}})
	p2.Write(z.Bytes())
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return body.Bytes(), "multipart/mixed; boundary=\"" + mw.Boundary() + "\"", nil
}

// decodeMessage reads a CCM_POST body.
func decodeMessage(r *http.Request) (msg, string, error) {
	var h msg
	if r.Method != ccmPost {
		return h, "", fmt.Errorf("method %s, want %s", r.Method, ccmPost)
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		return h, "", fmt.Errorf("content type %q, want multipart/mixed", r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(io.LimitReader(r.Body, 1<<20), params["boundary"])
	read := func() ([]byte, error) {
		p, err := mr.NextPart()
		if err != nil {
			return nil, err
		}
		return io.ReadAll(io.LimitReader(p, 1<<20))
	}
	hb, err := read()
	if err != nil {
		return h, "", fmt.Errorf("header part: %w", err)
	}
	hs, err := fromUTF16LE(hb)
	if err != nil {
		return h, "", fmt.Errorf("header part: %w", err)
	}
	if err := xml.Unmarshal([]byte(hs), &h); err != nil {
		return h, "", fmt.Errorf("<Msg> header: %w", err)
	}
	zb, err := read()
	if err != nil {
		return h, "", fmt.Errorf("payload part: %w", err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(zb))
	if err != nil {
		return h, "", fmt.Errorf("payload: %w", err)
	}
	pb, err := io.ReadAll(io.LimitReader(zr, 1<<20))
	if err != nil {
		return h, "", fmt.Errorf("payload: %w", err)
	}
	ps, err := fromUTF16LE(pb)
	return h, ps, err
}

// registrationRequest is the client's signed registration payload: the
// <Data> element, signed with the client's self-signed signing
// certificate (RSA PKCS#1 v1.5 SHA-256 over its UTF-16LE text, bytes
// reversed as CryptoAPI writes them).
func registrationRequest(signing *x509.Certificate, key *rsa.PrivateKey, clientID, fqdn, at string) (string, error) {
	certHex := strings.ToUpper(hex.EncodeToString(signing.Raw))
	data := fmt.Sprintf(`<Data HashAlgorithm="1.2.840.113549.1.1.11" SMSID="%s" RequestType="Registration" TimeStamp="%s">`+
		`<AgentInformation AgentIdentity="CCMSetup.exe" AgentVersion="5.00.9128.1000" AgentType="0"/>`+
		`<Certificates><Encryption Encoding="HexBinary" KeyType="1">%s</Encryption><Signing Encoding="HexBinary" KeyType="1">%s</Signing></Certificates>`+
		`<DiscoveryProperties><Property Name="Netbios Name" Value="%s"/><Property Name="FQ Name" Value="%s"/></DiscoveryProperties></Data>`,
		clientID, at, certHex, certHex, strings.Split(fqdn, ".")[0], fqdn)
	sum := sha256.Sum256(utf16LE(data, false))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("handshake: registration signature: %w", err)
	}
	reverse(sig)
	return `<ClientRegistrationRequest>` + data + `<Signature><SignatureValue>` + strings.ToUpper(hex.EncodeToString(sig)) +
		`</SignatureValue></Signature></ClientRegistrationRequest>`, nil
}

func reverse(b []byte) {
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
}

var (
	reData    = regexp.MustCompile(`(?s)<Data .*</Data>`)
	reSigning = regexp.MustCompile(`<Signing Encoding="HexBinary" KeyType="1">([0-9A-Fa-f]+)</Signing>`)
	reSig     = regexp.MustCompile(`<SignatureValue>([0-9A-Fa-f]+)</SignatureValue>`)
)

// checkRegistration verifies the registration request's signature with
// the signing certificate it carries, and returns that certificate.
func checkRegistration(payload string) (*x509.Certificate, error) {
	data, cm, sm := reData.FindString(payload), reSigning.FindStringSubmatch(payload), reSig.FindStringSubmatch(payload)
	if data == "" || cm == nil || sm == nil {
		return nil, errors.New("registration request lacks <Data>, the signing certificate or the signature")
	}
	der, err := hex.DecodeString(cm[1])
	if err != nil {
		return nil, fmt.Errorf("signing certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("signing certificate: %w", err)
	}
	ok := false
	for _, u := range cert.UnknownExtKeyUsage {
		ok = ok || u.Equal(ekuSMSSigning)
	}
	if !ok {
		return nil, errors.New("signing certificate lacks the SMS signing EKU 1.3.6.1.4.1.311.101.2")
	}
	pub, isRSA := cert.PublicKey.(*rsa.PublicKey)
	if !isRSA {
		return nil, errors.New("signing certificate key is not RSA")
	}
	sig, err := hex.DecodeString(sm[1])
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	reverse(sig)
	sum := sha256.Sum256(utf16LE(data, false))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	return cert, nil
}
