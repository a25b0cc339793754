#!/bin/sh
docker run -d --cap-drop=ALL nginx:1.27
docker run -d --cap-drop all --cap-add NET_BIND_SERVICE caddy:2.8
DOCKER_RUN="docker run --rm"
