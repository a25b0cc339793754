FROM debian:trixie-slim
RUN set -eux; \
	apt-get update; \
	apt-get install -y --no-install-recommends ca-certificates curl; \
	rm -rf /var/lib/apt/lists/*
# apt 2.7+ removes the lists with dist-clean.
RUN set -eux; \
	apt-get update; \
	apt-get install -y --no-install-recommends gnupg; \
	apt-get dist-clean
# A simulation installs nothing.
RUN if apt-get install -s "postgresql-17-jit" > /dev/null 2>&1; then echo jit; fi
# Recommends decided explicitly.
RUN apt-get update && apt-get install -y --install-recommends tini && rm -rf /var/lib/apt/lists
RUN apt-get -o APT::Install-Recommends=false install -y jq
# The exec form is not edited.
RUN ["apt-get", "install", "-y", "xz-utils"]
