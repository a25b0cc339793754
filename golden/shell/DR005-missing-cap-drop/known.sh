#!/bin/bash
docker run -d --name db \
  -v pgdata:/var/lib/postgresql/data \
  postgres:16
docker run -d -p 80:80 nginx:1.27
docker run -d prom/prometheus:v2.54.1
docker run -d --cap-drop NET_RAW --cap-add CHOWN redis:7.4
