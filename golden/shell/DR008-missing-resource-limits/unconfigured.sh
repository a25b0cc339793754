#!/bin/bash
docker run -d --memory=0 ghcr.io/acme/api:1.4
