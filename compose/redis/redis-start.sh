#!/bin/sh
# Starts the compose Redis: append-only persistence, the default user switched off, and one user,
# `sluice`, holding only the rules of sluice.acl. The password is stored as its SHA-256, never in
# clear; it comes from REDIS_PASSWORD (compose/.env).
set -eu
: "${REDIS_PASSWORD:?set REDIS_PASSWORD in compose/.env}"
hash=$(printf '%s' "$REDIS_PASSWORD" | sha256sum | cut -d' ' -f1)
rules=$(sed -e 's/#.*//' /etc/sluice/sluice.acl | tr -s ' \n' '  ')
{
  echo "user default off"
  echo "user sluice reset on #$hash $rules"
} > /data/users.acl
# The image's entrypoint drops to the redis user and gives it /data.
exec docker-entrypoint.sh redis-server --appendonly yes --aclfile /data/users.acl
