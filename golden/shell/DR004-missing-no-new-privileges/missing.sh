#!/bin/bash
docker run -d --name web nginx:1.27
docker run -d \
  --name api \
  ghcr.io/acme/api:1.4
docker run --rm --security-opt=no-new-privileges:false --net=bridge ghcr.io/acme/api:1.4 migrate
docker run -d coredns/coredns:1.11.3
