#!/usr/bin/env bash
# Makes a throwaway CA and a server certificate for catalog names, for the
# end-to-end tests and benchmarks. Never for production: the keys are written
# unencrypted next to the certificates.
#
#   certs/gen-test-pki.sh OUT_DIR
#
# OUT_DIR/ca.pem            the test CA (clients trust it with --cacert / -CAfile)
# OUT_DIR/server.pem, .key  leaf for the names below (the TLS upstreams present it)
# OUT_DIR/client.pem, .key  a client certificate (mutual TLS through a tunnel)
set -euo pipefail
out=${1:?usage: gen-test-pki.sh OUT_DIR}
mkdir -p "$out"
cd "$out"
[ -s ca.pem ] && [ -s server.pem ] && [ -s client.pem ] && exit 0

days=3650
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days "$days" \
  -subj "/CN=chokepoint test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

# The names tests connect to: real catalog rows, a wildcard row, and names
# the catalog does not allow (the proxy must refuse them before TLS starts).
cat > server.ext <<'NAMES'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=@names
[names]
DNS.1=ds20.icrc.trendmicro.com
DNS.2=files.trendmicro.com
DNS.3=iaus.activeupdate.trendmicro.com
DNS.4=*.xdr.trendmicro.com
DNS.5=ds2000-en-census.trendmicro.com
DNS.6=evil.example.com
DNS.7=dsm.corp.example
DNS.8=localhost
IP.1=127.0.0.1
NAMES
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=ds20.icrc.trendmicro.com" 2>/dev/null
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days "$days" \
  -extfile server.ext 2>/dev/null

printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' > client.ext
openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/CN=agent-01" 2>/dev/null
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days "$days" \
  -extfile client.ext 2>/dev/null
rm -f ./*.csr ./*.ext ca.srl
