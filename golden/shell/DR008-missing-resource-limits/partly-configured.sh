#!/bin/bash
docker run -d --name api ghcr.io/acme/api:1.4
