FROM alpine:3.20
RUN apk add -U curl
# This RUN installs from the index the previous one saved.
RUN apk add jq && rm -rf /var/cache/apk/*
