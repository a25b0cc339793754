ARG RUNC_COMMIT=0123456789abcdef0123456789abcdef01234567
FROM alpine:3.20
ADD --checksum=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef https://example.com/tool.tar.gz /opt/
ADD https://github.com/org/repo.git#0123456789abcdef0123456789abcdef01234567 /src
ADD https://github.com/org/repo.git#0123456789abcdef0123456789abcdef01234567:docs /docs
ADD rootfs.tar.gz /
COPY app /app
FROM alpine:3.20 AS runc
ARG RUNC_COMMIT
ADD https://github.com/opencontainers/runc.git#${RUNC_COMMIT} /src/runc
ARG TOOL_REF=fedcba9876543210fedcba9876543210fedcba98
ADD https://github.com/org/tool.git#$TOOL_REF /src/tool
