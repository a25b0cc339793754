#!/bin/bash
IMAGE=nginx
docker run -d alpine echo hi
docker run -d "$IMAGE"
