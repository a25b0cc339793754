ARG REGISTRY=docker.io
ARG BASE=python
ARG NODE_IMAGE="${REGISTRY}/library/node"
ARG ALPINE_TAG=latest
FROM ${BASE} AS py
FROM $NODE_IMAGE:latest AS js
FROM alpine:${ALPINE_TAG} AS tools
FROM ${DISTRO:-debian} AS fallback
FROM py
