#!/bin/sh
docker run -d --net=host prom/node-exporter:v1.8.2
docker run -d --network host --pid=host --ipc=host ghcr.io/acme/agent:3
docker run -d --net host tailscale/tailscale:v1.76.1
docker run -d --network=host prom/prometheus:v2.54.1
