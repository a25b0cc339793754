#!/bin/bash
docker run --rm \
  --privileged \
  -v "$PWD:/src" \
  ghcr.io/acme/builder:1.2 make all
