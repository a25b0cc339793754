FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y ca-certificates tini
ENTRYPOINT ["tini", "--"]
