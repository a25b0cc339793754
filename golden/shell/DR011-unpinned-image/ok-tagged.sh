#!/bin/sh
docker run -d redis:7.4
docker run -d nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000
docker run -d "${IMAGE}"
docker run -d "$REGISTRY/app:$TAG"
