#!/bin/sh
# PUID set: the init rewrites /etc/passwd (usermod), which a read-only root stops
docker run -d --name sonarr -e PUID=1000 -e PGID=1000 -v /srv/sonarr:/config lscr.io/linuxserver/sonarr:4.0.11
# No PUID: nothing conditional
docker run -d --name sonarr2 -v /srv/sonarr:/config lscr.io/linuxserver/sonarr:4.0.11
# PUID passed through from the caller's environment
docker run -d --name sonarr3 -e PUID -v /srv/sonarr:/config lscr.io/linuxserver/sonarr:4.0.11
