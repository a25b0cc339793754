#!/bin/sh
docker run -d -v /var/run/docker.sock:/var/run/docker.sock containrrr/watchtower:1.7.1
docker run -d -v /var/run/docker.sock:/var/run/docker.sock ghcr.io/acme/agent:3
docker run -d -v /var/run/docker.sock:/var/run/docker.sock tecnativa/docker-socket-proxy:0.4.1
