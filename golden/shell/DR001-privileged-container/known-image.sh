#!/bin/sh
set -eu
# tailscale needs NET_ADMIN and /dev/net/tun instead of --privileged
docker run -d --name ts --privileged -v ts-state:/var/lib/tailscale tailscale/tailscale:v1.76.1
