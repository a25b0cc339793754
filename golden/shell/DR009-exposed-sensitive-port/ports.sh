#!/bin/bash
docker run -d -p 5432:5432 postgres:16
docker run -d -p 0.0.0.0:6379:6379 redis:7.4
docker run -d -p 2222:22 ghcr.io/acme/sshd:1
docker run -d --publish=2375:2375 docker:27-dind
docker run -d -p "3306:3306" -p 27017 ghcr.io/acme/db:1
