docker run -d \
  ghcr.io/acme/api:1.4
