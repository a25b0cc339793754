#!/bin/bash
docker run -d -e POSTGRES_PASSWORD=hunter2hunter2 postgres:16
docker run -d --env=API_TOKEN=sk-abcdefghijklmnopqrstuvwx ghcr.io/acme/api:1.4
docker run -d \
  --env "MYSQL_ROOT_PASSWORD=correct horse" \
  mysql:8.4
