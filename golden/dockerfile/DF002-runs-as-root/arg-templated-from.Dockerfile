ARG REGISTRY=docker.io
ARG BASE=${REGISTRY}/library/alpine:3.20
FROM ${BASE}
RUN apk add --no-cache curl
ENTRYPOINT ["curl"]
