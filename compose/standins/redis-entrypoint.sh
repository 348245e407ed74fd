#!/bin/sh
# The stand-in's docker-entrypoint.sh: as the official redis image's, give /data to the redis user
# and run redis-server as that user from /data.
set -eu
if [ "$1" = "redis-server" ] && [ "$(id -u)" = 0 ]; then
  chown -R redis:redis /data 2>/dev/null || true
  cd /data
  exec setpriv --reuid=redis --regid=redis --init-groups "$@" --protected-mode no --bind 0.0.0.0 --dir /data
fi
exec "$@"
