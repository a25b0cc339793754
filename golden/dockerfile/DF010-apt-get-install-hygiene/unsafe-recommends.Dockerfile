FROM debian:bookworm-slim
# curl relies on its recommended ca-certificates for https.
RUN apt-get update && apt-get install -y curl
# A package from a variable: unknown.
ARG EXTRA=""
# (it also reads the lists of the first RUN, so that one keeps them)
RUN apt-get install -y jq $EXTRA
COPY setup.sh /setup.sh
RUN apt-get update && apt-get install -y --no-install-recommends xz-utils
# This script may install packages from the lists.
RUN /bin/sh /setup.sh
