#!/bin/sh
docker run -d -u 1000:1000 ghcr.io/acme/api:1.4
docker run -d --user "$(id -u):$(id -g)" ghcr.io/acme/api:1.4
docker run -d redis:7.4
docker run -d prom/prometheus:v2.54.1
