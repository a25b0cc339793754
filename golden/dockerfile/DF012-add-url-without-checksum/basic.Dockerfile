FROM alpine:3.20
ADD https://example.com/releases/tool-1.2.3-linux-amd64.tar.gz /opt/
ADD https://github.com/org/repo.git#v1.2.3 /src
ADD git@github.com:org/private.git /private
ARG RUNC_VERSION=v1.2.5
ADD https://github.com/opencontainers/runc.git#$RUNC_VERSION /src/runc
