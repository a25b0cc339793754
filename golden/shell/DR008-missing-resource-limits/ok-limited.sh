#!/bin/sh
docker run -d -m 512m --cpus 0.5 --pids-limit 100 ghcr.io/acme/api:1.4
docker run -d --memory=1g --cpu-quota=50000 --pids-limit=200 ghcr.io/acme/api:1.4
