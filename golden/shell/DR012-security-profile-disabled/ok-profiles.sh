#!/bin/sh
docker run --rm --security-opt seccomp=./profile.json ghcr.io/acme/bench:1
docker run --rm --security-opt apparmor=docker-default ghcr.io/acme/bench:1
