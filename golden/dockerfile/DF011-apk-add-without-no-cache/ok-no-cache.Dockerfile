# syntax=docker/dockerfile:1
FROM alpine:3.20
RUN apk add --no-cache curl
RUN apk --no-cache add --virtual .build-deps gcc
RUN apk add --update jq && rm -rf /var/cache/apk/*
# Nothing is fetched: the packages are already installed.
RUN apk add --no-network --virtual .rundeps $runDeps
RUN --mount=type=cache,target=/var/cache/apk apk add tini
RUN --mount=type=cache,target=/etc/apk/cache apk add bash
RUN ["apk", "add", "xz"]
