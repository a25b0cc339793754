#!/bin/bash
docker run -d --name api ghcr.io/acme/api:1.4
docker run -d --memory 1g \
  --name worker \
  ghcr.io/acme/worker:2
