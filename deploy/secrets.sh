#!/usr/bin/env bash
# Makes the secret files deploy/compose.production.yml reads (deploy/secrets/, git-ignored), each a random value,
# keeping any that exist; and the demo's self-signed TLS certificate for the proxy (deploy/tls.sh).
# Files are owner root, group 10001 (the group every Settle image's user is in), mode 0440: the containers'
# non-root users read them, nobody else on the host does. In production, put real values in these files (or point
# the compose file's `secrets:` elsewhere): STRIPE_SECRET_KEY and friends as *_FILE the same way.
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/secrets"
install -d -m 0750 -g 10001 "$DIR"
umask 077

secret() {  # NAME VALUE: write it unless it exists
    local file="$DIR/$1"
    [ -s "$file" ] || printf '%s\n' "$2" >"$file"
    chgrp 10001 "$file" && chmod 0440 "$file"
}
random() { python3 -c 'import secrets; print(secrets.token_urlsafe(32))'; }

secret postgres_password "$(random)"
secret redis_password "$(random)"
pg="$(cat "$DIR/postgres_password")" redis="$(cat "$DIR/redis_password")"
# The URLs carry the passwords, so they are secrets too (token_urlsafe needs no percent-encoding).
secret database_url "postgresql+psycopg2://settle:$pg@postgres:5432/settle"
secret tracker_store_url "postgresql://settle:$pg@postgres:5432/settle_tracker"
secret redis_url "redis://:$redis@redis:6379/0"
secret rasa_token "$(random)"
secret rest_api_token "$(random)"
secret widget_secret "$(random)"
secret transcript_hmac_key "$(random)"
secret email_link_secret "$(random)"
secret stripe_webhook_secret "whsec_$(random)"
bash "$(dirname "$DIR")/tls.sh" "$DIR"
