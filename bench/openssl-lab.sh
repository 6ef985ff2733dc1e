#!/usr/bin/env bash
# The default cmgpki lab made with the openssl CLI: root CA, issuing CA,
# CMG server, MP HTTPS (two SANs), CMG connection point, one PKI client, a
# WPJ CA and one device certificate with the 1.2.840.113556.1.5.284.*
# extensions. Each leaf gets PEM, chain PEM, DER, PKCS#8 key and a PFX with
# the full chain (3DES for the CMG server, AES-256 otherwise), as cmgpki does.
# Usage: openssl-lab.sh OUTDIR [REUSED_KEYS_DIR]
set -euo pipefail
out=$1; keys=${2:-}
mkdir -p "$out/ca" "$out/certs"
cd "$out"
pw=$(openssl rand -base64 18); printf '%s\n' "$pw" > pfx-password.txt; chmod 600 pfx-password.txt
base=http://127.0.0.1:8080

key() { # key NAME -> NAME.key
  if [[ -n "$keys" && -f "$keys/$1.key" ]]; then cp "$keys/$1.key" "$2"; else openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$2" 2>/dev/null; fi
  chmod 600 "$2"
}

key root-ca ca/root-ca.key
openssl req -x509 -new -key ca/root-ca.key -out ca/root-ca.crt -subj "/CN=contoso.com Lab Root CA" -days 3650 -sha256 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
openssl x509 -in ca/root-ca.crt -outform DER -out ca/root-ca.cer

key issuing-ca ca/issuing-ca.key
openssl req -new -key ca/issuing-ca.key -subj "/CN=contoso.com Lab Issuing CA" 2>/dev/null | \
  openssl x509 -req -CA ca/root-ca.crt -CAkey ca/root-ca.key -set_serial 0x$(openssl rand -hex 16) -days 1825 -sha256 -out ca/issuing-ca.crt \
  -extfile <(printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\ncrlDistributionPoints=URI:%s/crl/root-ca.crl\nauthorityInfoAccess=caIssuers;URI:%s/ca/root-ca.cer\n' $base $base) 2>/dev/null
openssl x509 -in ca/issuing-ca.crt -outform DER -out ca/issuing-ca.cer

key wpj-ca ca/wpj-ca.key
openssl req -x509 -new -key ca/wpj-ca.key -out ca/wpj-ca.crt -multivalue-rdn -subj "/DC=net+DC=windows+CN=MS-Organization-Access+OU=82dbaca4-3e81-46ca-9c73-0950c1eaca97" \
  -days 7300 -sha256 -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
openssl x509 -in ca/wpj-ca.crt -outform DER -out ca/wpj-ca.cer

leaf() { # leaf NAME CN EXTS CA PFXALG
  local n=$1 cn=$2 ext=$3 ca=$4 alg=$5
  key "$n" certs/$n.key
  openssl req -new -key certs/$n.key -subj "/CN=$cn" 2>/dev/null | \
    openssl x509 -req -CA ca/$ca.crt -CAkey ca/$ca.key -set_serial 0x$(openssl rand -hex 16) -days 365 -sha256 -out certs/$n.crt -extfile <(printf '%b' "$ext") 2>/dev/null
  openssl x509 -in certs/$n.crt -outform DER -out certs/$n.cer
  if [[ $ca == issuing-ca ]]; then cat certs/$n.crt ca/issuing-ca.crt > certs/$n.chain.pem; chain="ca/issuing-ca.crt ca/root-ca.crt"; else cp certs/$n.crt certs/$n.chain.pem; chain=ca/$ca.crt; fi
  cat $chain > certs/$n.cas.pem
  if [[ $alg == legacy ]]; then pbe=(-keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1); else pbe=(); fi
  openssl pkcs12 -export -inkey certs/$n.key -in certs/$n.crt -certfile certs/$n.cas.pem "${pbe[@]}" -passout file:pfx-password.txt -out certs/$n.pfx
  rm certs/$n.cas.pem; chmod 600 certs/$n.pfx
}
rev="crlDistributionPoints=URI:$base/crl/issuing-ca.crl\nauthorityInfoAccess=caIssuers;URI:$base/ca/issuing-ca.cer,OCSP;URI:$base/ocsp\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
leaf cmg-server cmg.contoso.com "${rev}extendedKeyUsage=serverAuth\nsubjectAltName=DNS:cmg.contoso.com\n" issuing-ca legacy
leaf mp-https mp.contoso.com "${rev}extendedKeyUsage=serverAuth\nsubjectAltName=DNS:mp.contoso.com,DNS:mp01.corp.contoso.com\n" issuing-ca modern
leaf cmg-connection-point cmgcp01.corp.contoso.com "${rev}extendedKeyUsage=clientAuth\nsubjectAltName=DNS:cmgcp01.corp.contoso.com\n" issuing-ca modern
leaf client01 client01.contoso.com "${rev}extendedKeyUsage=clientAuth\nsubjectAltName=DNS:client01.contoso.com\n" issuing-ca modern
guid=$(cat /proc/sys/kernel/random/uuid)
g=$(openssl rand -hex 16 | tr a-f A-F)
leaf device01 "$guid" "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=critical,clientAuth\nsubjectKeyIdentifier=none\nauthorityKeyIdentifier=none\n1.2.840.113556.1.5.284.1=DER:048110$g\n1.2.840.113556.1.5.284.2=DER:048110$g\n1.2.840.113556.1.5.284.3=DER:048110$g\n1.2.840.113556.1.5.284.4=DER:048110$g\n1.2.840.113556.1.5.284.7=DER:04810131\n" wpj-ca modern
