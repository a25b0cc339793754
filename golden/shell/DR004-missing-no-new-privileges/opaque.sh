#!/bin/bash
docker run -d $DOCKER_OPTS ghcr.io/acme/api:1.4
docker run --frobnicate ghcr.io/acme/api:1.4
docker run "$@"
