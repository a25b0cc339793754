FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY server /usr/local/bin/server
ENTRYPOINT ["/usr/local/bin/server"]
