# syntax=docker/dockerfile:1.4
ARG REGISTRY_PASSWORD=globalFAKEpw123
FROM alpine:3.20 AS old-frontend
ARG SMTP_PASSWORD=FAKEsmtp-pass-4242
RUN echo "$SMTP_PASSWORD" > /dev/null
FROM alpine:3.20 AS used-by-env
ARG DB_PASS=FAKEdb-pass-0000
ENV DATABASE_URL=postgres://app:${DB_PASS}@db/app
RUN ./migrate
FROM alpine:3.20
LABEL deploy.token="ghp_FAKEfake0123456789abcdefghijklmnopqr"
ONBUILD ARG CHILD_SECRET=FAKEonbuild-secret
ARG UNUSED_TOKEN=FAKEunused-token-9
