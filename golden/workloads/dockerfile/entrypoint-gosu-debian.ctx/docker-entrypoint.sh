#!/bin/bash
set -e

if [ "$(id -u)" = '0' ]; then
    chown -R app:app /var/lib/app
    exec gosu app "$0" "$@"
fi

exec "$@"
