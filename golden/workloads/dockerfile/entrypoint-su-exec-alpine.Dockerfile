# workload: an Alpine image with a PUID/PGID entrypoint that ends in su-exec
# expect: final.USER absent; fix of DF002 is display-only
# expect: final.ENTRYPOINT = ["/entrypoint.sh"]
# evidence: build entrypoint.sh#L4-L7
FROM alpine:3.20
RUN apk add --no-cache su-exec tzdata
COPY entrypoint.sh /entrypoint.sh
COPY bin/server /usr/local/bin/server
ENTRYPOINT ["/entrypoint.sh"]
CMD ["server"]
