FROM ubuntu:24.04
# Options before the subcommand, quiet flags after it, an environment prefix,
# two installs in one RUN and a trailing `;` on the last line.
RUN apt-get update; \
    apt-get -y install jq; \
    DEBIAN_FRONTEND=noninteractive apt-get install -qq -y \
        tzdata locales ; \
    apt install -y --allow-downgrades tini;
RUN if [ "$(uname -m)" = x86_64 ]; then apt-get update && apt-get install -y libc6-i386; fi
