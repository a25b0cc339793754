# syntax=docker/dockerfile:1
# base image comes from an ARG
ARG BASE=ubuntu

FROM \
    # the builder
    ${BASE} \
    AS builder
RUN <<EOF
apt-get update
EOF

  from   alpine:latest
COPY --from=builder /x /x
