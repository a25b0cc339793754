#!/bin/sh
set -e
# fix the ownership of the data folder, then drop to the worker user
chown -R worker:worker /data
exec gosu worker "$@"
