#checkov:skip=CKV_DOCKER_4:the build context is a tarball on purpose
FROM alpine:3.20
ADD app /app
USER 10001:10001
