FROM ubuntu:24.04
# Recommends are turned off for the whole image.
RUN echo 'APT::Install-Recommends "false";' > /etc/apt/apt.conf.d/00-no-recommends
RUN apt-get update && apt-get install -y tini && rm -rf /var/lib/apt/lists/*
