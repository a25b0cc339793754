#!/bin/sh
docker run -d --read-only --tmpfs /tmp nginx:1.27
docker run -d --read-only=true redis:7.4
