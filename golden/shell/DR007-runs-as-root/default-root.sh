#!/bin/bash
docker run -d tailscale/tailscale:v1.76.1
docker run -d -v ts:/var/lib/tailscale tailscale/tailscale:v1.76.1
docker run --rm ghcr.io/acme/api:1.4
