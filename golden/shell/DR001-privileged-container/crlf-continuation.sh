#!/bin/bash
sudo docker run -d \
    --name=cadvisor \
    --privileged \
    gcr.io/cadvisor/cadvisor:v0.49.1
