# syntax=docker/dockerfile:1
# a single-stage build
FROM node:20

RUN <<EOF
apt-get update
apt-get install -y --no-install-recommends \
    g++ \
    make
EOF
# app
COPY . /app
CMD ["node", "/app/index.js"]
