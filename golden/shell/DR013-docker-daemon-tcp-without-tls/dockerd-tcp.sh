#!/bin/bash
set -e
# A daemon on plain TCP, with a continuation line.
sudo dockerd -H unix:///var/run/docker.sock \
  --host=tcp://0.0.0.0:2375 &
# Docker-in-Docker told to skip TLS.
docker run -d --privileged --name dind -e DOCKER_TLS_CERTDIR= docker:27-dind
docker run -d --privileged docker:dind -H tcp://0.0.0.0:2375
