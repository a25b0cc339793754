FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY server /usr/local/bin/server
EXPOSE 8080/tcp 9090/udp
# run the server
ENTRYPOINT ["/usr/local/bin/server"]
CMD ["--listen", ":8080"]
