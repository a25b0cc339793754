#!/bin/sh
docker network create app
docker run -d --network app --pid=container:db redis:7.4
docker run -d --net=bridge redis:7.4
