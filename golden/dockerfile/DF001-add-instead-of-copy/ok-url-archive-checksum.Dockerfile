FROM alpine:3.20
ADD https://example.com/x.tgz /tmp/
ADD rootfs.tar.gz /
ADD --checksum=sha256:abc https://example.com/y /y
ADD git@github.com:moby/buildkit.git /bk
COPY app /app
