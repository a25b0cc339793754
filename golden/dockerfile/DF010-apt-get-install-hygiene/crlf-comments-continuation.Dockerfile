# syntax=docker/dockerfile:1
FROM debian:bookworm

RUN apt-get update \
    # the tools we need
    && apt-get install -y \
        ca-certificates \
        jq \

        xz-utils
RUN apt-get update && apt-get install --no-install-recommends -y tini > /dev/null # quiet
CMD ["bash"]
