#!/usr/bin/env bash
# The demo's self-signed TLS certificate for the proxy: deploy/tls.sh DIR writes DIR/tls_cert and DIR/tls_key
# (kept if present) for localhost, 127.0.0.1 and SETTLE_TLS_NAME (default settle.localhost), valid 825 days.
# In production, put the certificate chain and key your CA issued in those two files instead.
set -euo pipefail
DIR="${1:?usage: deploy/tls.sh DIR}"
NAME="${SETTLE_TLS_NAME:-settle.localhost}"
if [ ! -s "$DIR/tls_cert" ] || [ ! -s "$DIR/tls_key" ]; then
    (umask 077; openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=$NAME" \
        -addext "subjectAltName=DNS:$NAME,DNS:localhost,IP:127.0.0.1" \
        -keyout "$DIR/tls_key" -out "$DIR/tls_cert" 2>/dev/null)
    echo "tls: self-signed certificate for $NAME in $DIR/tls_cert" >&2
fi
chgrp 10001 "$DIR/tls_cert" "$DIR/tls_key" && chmod 0440 "$DIR/tls_cert" "$DIR/tls_key"
