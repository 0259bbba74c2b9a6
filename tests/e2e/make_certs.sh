#!/usr/bin/env bash
# Makes a throwaway CA and, signed by it, a server certificate for 127.0.0.1 and two client certificates, for the
# TLS tests. usage: make_certs.sh DIR
# DIR gets: ca.pem (trust store), server-keystore.pem (key + certificate, a PEM key store), server.p12 (the same as
# PKCS#12, password "secret"), client.pem/client.key and client-keystore.pem (subject CN=client-one,OU=tests,
# O=OrleansCoord), stranger.pem/stranger.key
# (signed by a CA the server does not trust).
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
quiet() { "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; }

issue() { # NAME SUBJECT CA [EXTFILE]
  quiet openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -subj "$2" -out "$1.csr"
  quiet openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days 2 -out "$1.pem" ${4:+-extfile "$4"}
}

quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -subj "/CN=OrleansCoord test CA" -days 2 -out ca.pem
quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -subj "/CN=Untrusted CA" -days 2 -out other-ca.pem
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > server.ext
issue server "/CN=localhost" ca server.ext
issue client "/O=OrleansCoord/OU=tests/CN=client-one" ca
issue stranger "/CN=stranger" other-ca
cat server.key server.pem > server-keystore.pem
cat client.key client.pem > client-keystore.pem
quiet openssl pkcs12 -export -inkey server.key -in server.pem -passout pass:secret -out server.p12
rm -f ./*.csr ./*.srl server.ext
