FROM alpine:3.20
RUN set -eux; \
    apk add --no-cache --virtual .build-deps gcc make musl-dev; \
    make -C /src; \
    apk del --no-network .build-deps
RUN set -eux; \
    savedAptMark="$(apt-mark showmanual)"; \
    apt-get install -y gcc; \
    apt-mark auto '.*' > /dev/null; \
    [ -z "$savedAptMark" ] || apt-mark manual $savedAptMark; \
    apt-get purge -y --auto-remove -o APT::AutoRemove::RecommendsImportant=false
CMD ["/src/app"]
