#!/bin/bash
docker run -d ghcr.io/acme/worker:2
