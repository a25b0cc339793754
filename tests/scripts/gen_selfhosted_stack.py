#!/usr/bin/env python3
# Regenerate with: python3 tests/scripts/gen_selfhosted_stack.py tests/fixtures/selfhosted-stack.compose.yaml
# Generates tests/fixtures/selfhosted-stack.compose.yaml: a self-hosted stack in the style of the
# big community compose files (shared logging, restart, healthcheck, environment blocks).
services = [
    # name, image, port, kind
    ("traefik", "traefik:v3.1", "80:80", "proxy"),
    ("postgres", "postgres:16.4-alpine", None, "db"),
    ("redis", "redis:7.4-alpine", None, "db"),
    ("mariadb", "mariadb:11.4", None, "db"),
    ("nextcloud", "nextcloud:29.0.7-apache", None, "app"),
    ("nextcloud-cron", "nextcloud:29.0.7-apache", None, "worker"),
    ("immich-server", "ghcr.io/immich-app/immich-server:v1.115.0", "2283:2283", "app"),
    ("immich-machine-learning", "ghcr.io/immich-app/immich-machine-learning:v1.115.0", None, "worker"),
    ("paperless", "ghcr.io/paperless-ngx/paperless-ngx:2.12", None, "app"),
    ("gitea", "gitea/gitea:1.22.2", "2222:22", "app"),
    ("vaultwarden", "vaultwarden/server:1.32.0", None, "app"),
    ("jellyfin", "jellyfin/jellyfin:10.9.11", "8096:8096", "media"),
    ("sonarr", "lscr.io/linuxserver/sonarr:4.0.9", None, "media"),
    ("radarr", "lscr.io/linuxserver/radarr:5.11.0", None, "media"),
    ("prowlarr", "lscr.io/linuxserver/prowlarr:1.24.3", None, "media"),
    ("bazarr", "lscr.io/linuxserver/bazarr:1.4.4", None, "media"),
    ("lidarr", "lscr.io/linuxserver/lidarr:2.5.3", None, "media"),
    ("qbittorrent", "lscr.io/linuxserver/qbittorrent:4.6.7", "6881:6881", "media"),
    ("homeassistant", "ghcr.io/home-assistant/home-assistant:2024.9.3", None, "app"),
    ("mosquitto", "eclipse-mosquitto:2.0.18", "1883:1883", "app"),
    ("zigbee2mqtt", "koenkk/zigbee2mqtt:1.40.1", None, "app"),
    ("node-red", "nodered/node-red:4.0.3", None, "app"),
    ("grafana", "grafana/grafana:11.2.0", None, "app"),
    ("prometheus", "prom/prometheus:v2.54.1", None, "app"),
    ("loki", "grafana/loki:3.1.1", None, "app"),
    ("uptime-kuma", "louislam/uptime-kuma:1.23.14", None, "app"),
    ("authentik-server", "ghcr.io/goauthentik/server:2024.8.2", None, "app"),
    ("authentik-worker", "ghcr.io/goauthentik/server:2024.8.2", None, "worker"),
    ("freshrss", "freshrss/freshrss:1.24.3", None, "app"),
    ("linkding", "sissbruecker/linkding:1.31.0", None, "app"),
    ("mealie", "ghcr.io/mealie-recipes/mealie:v1.12.0", None, "app"),
    ("homepage", "ghcr.io/gethomepage/homepage:v0.9.10", None, "app"),
    ("syncthing", "lscr.io/linuxserver/syncthing:1.27.12", "22000:22000", "app"),
    ("readeck", "codeberg.org/readeck/readeck:0.15.4", None, "app"),
]

out = []
w = out.append
w("# Self-hosted stack: reverse proxy, databases, media, home automation and monitoring.")
w("# Shared settings live in x- extension fields and are reused through anchors.")
w("name: homelab")
w("")
w("x-logging: &logging")
w("  driver: json-file")
w("  options:")
w("    max-size: \"10m\"")
w("    max-file: \"3\"")
w("")
w("x-restart: &restart")
w("  restart: unless-stopped")
w("")
w("x-common: &common")
w("  <<: *restart")
w("  logging: *logging")
w("  stop_grace_period: 30s")
w("")
w("x-tz: &tz")
w("  TZ: Europe/Berlin")
w("")
w("x-linuxserver-env: &linuxserver-env")
w("  <<: *tz")
w("  PUID: \"1000\"")
w("  PGID: \"1000\"")
w("")
w("x-healthcheck: &healthcheck")
w("  interval: 30s")
w("  timeout: 10s")
w("  retries: 5")
w("  start_period: 20s")
w("")
w("x-depends-on-db: &depends-on-db")
w("  postgres:")
w("    condition: service_healthy")
w("  redis:")
w("    condition: service_started")
w("")
w("x-localtime: &localtime /etc/localtime:/etc/localtime:ro")
w("")
w("x-dns: &dns")
w("  - 1.1.1.1")
w("  - 9.9.9.9")
w("")
w("x-labels: &labels")
w("  com.centurylinklabs.watchtower.enable: \"true\"")
w("  homelab.managed: \"true\"")
w("")
w("services:")
for name, image, port, kind in services:
    w(f"  {name}:")
    w(f"    <<: *common")
    w(f"    image: {image}")
    w(f"    container_name: {name}")
    if kind == "media":
        w(f"    environment:")
        w(f"      <<: *linuxserver-env")
        w(f"      UMASK: \"022\"")
    else:
        w(f"    environment:")
        w(f"      <<: *tz")
        if kind in ("app", "worker"):
            w(f"      DB_HOST: postgres")
            w(f"      REDIS_HOST: redis")
    if name in ("traefik", "homepage", "uptime-kuma"):
        w(f"    labels: *labels")
        w(f"    dns: *dns")
    w(f"    volumes:")
    if kind not in ("db", "worker"):
        w(f"      - *localtime")
    w(f"      - ./{name}/data:/data")
    if port:
        w(f"    ports:")
        w(f"      - \"{port}\"")
    if kind in ("app", "worker") and name not in ("mosquitto",):
        w(f"    depends_on: *depends-on-db")
    if kind != "worker":
        w(f"    healthcheck:")
        w(f"      <<: *healthcheck")
        w(f"      test: [\"CMD-SHELL\", \"wget -qO- http://localhost/ || exit 1\"]")
    w("")
w("networks:")
w("  default:")
w("    name: homelab")
text = "\n".join(out) + "\n"
import re, sys
aliases = len(re.findall(r"(?<![\w])\*[\w-]+", text))
anchors = len(re.findall(r"&[\w-]+", text))
sys.stderr.write(f"{aliases} aliases, {anchors} anchors, {len(text)} bytes\n")
open(sys.argv[1], "w").write(text)
