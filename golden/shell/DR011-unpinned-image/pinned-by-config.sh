#!/bin/bash
docker run -d redis
docker run -d \
  postgres:latest
docker run -d "ghcr.io/acme/api"
