#!/usr/bin/env bash
# Writes a throwaway CA (ca.pem) and a server certificate for 127.0.0.1 / localhost
# (server.pem, server.key) into DIR, valid for one day. Used by the integration tests and the
# benchmark for the https CloudFormation stand-in.
#   bash test/integration/make-tls.sh DIR
set -euo pipefail
tls="$1"
mkdir -p "$tls"
(
  cd "$tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -keyout ca.key -out ca.pem -subj "/CN=restate-cloud-cdk test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout server.key -out server.csr -subj "/CN=127.0.0.1"
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' > server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
    -days 1 -extfile server.ext -out server.pem
) >"$tls/openssl.log" 2>&1 || { cat "$tls/openssl.log" >&2; echo "make-tls.sh: openssl failed" >&2; exit 2; }
