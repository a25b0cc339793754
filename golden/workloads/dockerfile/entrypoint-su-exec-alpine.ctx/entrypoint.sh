#!/bin/sh
set -e
# PUID/PGID support, then drop privileges
addgroup -g "${PGID:-1000}" -S app 2>/dev/null || true
adduser -u "${PUID:-1000}" -G app -S -D app 2>/dev/null || true
chown -R app:app /config
exec su-exec app:app "$@"
