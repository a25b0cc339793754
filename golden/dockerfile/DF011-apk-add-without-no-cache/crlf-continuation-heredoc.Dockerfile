FROM python:3.12-alpine

RUN set -eux; \
    # build dependencies
    apk add --virtual .build-deps \
        gcc \
        musl-dev; \
    pip install uwsgi; \
    apk del .build-deps
RUN <<EOF
set -e
apk update
apk add tini
EOF
RUN sh <<EOF
apk add jq
EOF
ENTRYPOINT ["tini", "--"]
