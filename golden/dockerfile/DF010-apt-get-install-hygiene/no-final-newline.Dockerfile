# The last line has no line break: the cleanup is appended to it.
FROM debian:12-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl