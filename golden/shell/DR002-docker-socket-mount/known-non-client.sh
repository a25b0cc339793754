#!/bin/bash
docker run -d \
  -v /var/run/docker.sock:/var/run/docker.sock:ro \
  -v "$PWD/site:/usr/share/nginx/html:ro" \
  nginx:1.27
docker run -d --volume=/run/docker.sock:/var/run/docker.sock redis:7.4
docker run -d --mount type=bind,source=/var/run/docker.sock,target=/var/run/docker.sock postgres:16
