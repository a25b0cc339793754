#!/bin/sh
docker run -d -e POSTGRES_PASSWORD postgres:16
docker run -d -e POSTGRES_PASSWORD="$POSTGRES_PASSWORD" postgres:16
docker run -d -e MYSQL_ALLOW_EMPTY_PASSWORD=yes mysql:8.4
docker run -d -e LOG_LEVEL=debug ghcr.io/acme/api:1.4
