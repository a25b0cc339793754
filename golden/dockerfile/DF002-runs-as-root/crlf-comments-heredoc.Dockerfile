# syntax=docker/dockerfile:1
FROM python:3.12-slim AS base

# install dependencies
RUN pip install --no-cache-dir \
      flask \
# comment inside the continuation
      gunicorn
RUN <<EOF
set -e
mkdir -p /srv
EOF

# start the server
CMD ["gunicorn", "app:app"]
