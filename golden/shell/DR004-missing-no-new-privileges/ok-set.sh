#!/bin/sh
docker run -d --security-opt no-new-privileges nginx:1.27
docker run -d --security-opt=no-new-privileges:true redis:7.4
docker run -d --security-opt no-new-privileges=false --security-opt no-new-privileges postgres:16
docker ps
docker run --help
