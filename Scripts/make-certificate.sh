#!/usr/bin/env bash
# Makes a self-signed certificate and key for reflectd with openssl, for operators who prefer their own.
# Usage: Scripts/make-certificate.sh HOSTNAME [OUT_DIR]
# Then:  reflectd serve --tls-cert OUT_DIR/cert.pem --tls-key OUT_DIR/key.pem
#        reflect init --server https://HOSTNAME:8443 --ca OUT_DIR/cert.pem
set -euo pipefail
host="${1:?usage: make-certificate.sh HOSTNAME [OUT_DIR]}"
out="${2:-.}"
mkdir -p "$out"
# P-256 key; CA:TRUE with pathlen 0 and keyCertSign, the shape BoringSSL accepts as a client's only trust root.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
    -keyout "$out/key.pem" -out "$out/cert.pem" -subj "/CN=$host/O=Reflections" \
    -addext "subjectAltName=DNS:$host,DNS:localhost,IP:127.0.0.1,IP:::1" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,digitalSignature,keyCertSign"
chmod 600 "$out/key.pem"
echo "fingerprint: sha256:$(openssl x509 -in "$out/cert.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)"
