#!/bin/bash
docker run -d -p 8080:80 nginx:1.27
docker run -d \
  -v pgdata:/var/lib/postgresql/data \
  postgres:16
docker run -d --tmpfs /tmp prom/prometheus:v2.54.1
