#!/bin/sh
# Makes the openssl fixtures of the corpus (see ../README.md). Run from this
# directory with OpenSSL 3.0: sh make.sh. It signs with the corpus issuing
# CA (../ca/issuing-ca.pem, key internal/gentestdata/keys/issuing-rsa2048.key)
# at fixed dates, so the output does not depend on the day it is run.
set -eu
KEYS=../../../internal/gentestdata/keys
CA=../ca/issuing-ca.pem
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
touch "$work/index.txt"

cat > "$work/ca.cnf" <<CNF
[ca]
default_ca = corpus
[corpus]
database = $work/index.txt
new_certs_dir = $work
serial = $work/serial
policy = anything
unique_subject = no
copy_extensions = none
email_in_dn = no
[anything]
commonName = optional
organizationName = optional
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder

# AD CS "Web Server" (v1 template): template name 1.3.6.1.4.1.311.20.2 as a
# BMPString, Application Policies 1.3.6.1.4.1.311.21.10, and the default
# CDP/AIA of an enterprise CA: ldap:/// first, then http://.
[adcs_web]
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
1.3.6.1.4.1.311.20.2 = ASN1:BMPSTRING:WebServer
1.3.6.1.4.1.311.21.10 = ASN1:SEQUENCE:apppol_server
subjectAltName = DNS:mp02.corp.contoso.com, DNS:mp.contoso.com
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
2.5.29.31 = ASN1:SEQUENCE:cdps
authorityInfoAccess = caIssuers;URI:http://pki.contoso.com/issuing.cer
[apppol_server]
p1 = SEQUENCE:pol_server
[pol_server]
id = OID:serverAuth
[cdps]
dp1 = SEQUENCE:dp1
[dp1]
name = IMPLICIT:0C,SEQUENCE:dpname
[dpname]
full = IMPLICIT:0C,SEQUENCE:cdp_uris
[cdp_uris]
u1 = IMPLICIT:6,IA5STRING:ldap:///CN=Corpus%20Issuing%20CA,CN=pki,CN=CDP,CN=Public%20Key%20Services,CN=Services,CN=Configuration,DC=contoso,DC=com?certificateRevocationList?base?objectClass=cRLDistributionPoint
u2 = IMPLICIT:6,IA5STRING:http://pki.contoso.com/issuing.crl

# AD CS "Workstation Authentication" (v2 template): empty subject, the
# computer's DNS name in the SAN, template information 1.3.6.1.4.1.311.21.7
# (template OID, major 100, minor 4) and Application Policies clientAuth.
[adcs_workstation]
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
1.3.6.1.4.1.311.21.7 = ASN1:SEQUENCE:template
1.3.6.1.4.1.311.21.10 = ASN1:SEQUENCE:apppol_client
subjectAltName = critical, DNS:client02.corp.contoso.com
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:http://pki.contoso.com/issuing.crl
authorityInfoAccess = caIssuers;URI:http://pki.contoso.com/issuing.cer
[template]
id = OID:1.3.6.1.4.1.311.21.8.7638725.13898300.1985460.3383425.7519116.119.16408497.1716293
major = INTEGER:100
minor = INTEGER:4
[apppol_client]
p1 = SEQUENCE:pol_client
[pol_client]
id = OID:clientAuth

# A management point certificate with its FQDN only in the subject CN.
[mp_cn_only]
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
crlDistributionPoints = URI:http://pki.contoso.com/issuing.crl
authorityInfoAccess = caIssuers;URI:http://pki.contoso.com/issuing.cer

# A client certificate as an old CA baseline issues it: SHA-1.
[client]
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectAltName = DNS:client03.corp.contoso.com
crlDistributionPoints = URI:http://pki.contoso.com/issuing.crl
authorityInfoAccess = caIssuers;URI:http://pki.contoso.com/issuing.cer
CNF

make() { # name subject extensions serial digest
	openssl req -new -config "$work/ca.cnf" -key "$KEYS/leaf-rsa2048.key" -subj "$2" -out "$work/$1.csr"
	echo "$4" > "$work/serial"
	openssl ca -batch -config "$work/ca.cnf" -cert "$CA" -keyfile "$KEYS/issuing-rsa2048.key" \
		-startdate 20260301000000Z -enddate 20270301000000Z -md "$5" -extensions "$3" -notext \
		-in "$work/$1.csr" -out "$1.pem" 2>/dev/null
}
make adcs-web-server "/CN=mp02.corp.contoso.com/O=Contoso" adcs_web 61A0000001 sha256
make adcs-workstation "/" adcs_workstation 61A0000002 sha256
make mp-cn-only "/CN=mp01.corp.contoso.com" mp_cn_only 61A0000003 sha256
make client-sha1 "/CN=client03.corp.contoso.com" client 61A0000004 sha1
