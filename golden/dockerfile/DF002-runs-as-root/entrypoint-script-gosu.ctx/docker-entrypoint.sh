#!/bin/sh
set -e
if [ "$(id -u)" = '0' ]; then
	chown -R app:app /data
	exec gosu app "$0" "$@"
fi
exec "$@"
