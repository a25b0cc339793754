from alpine:3.20
  run apk add --no-cache tini
  copy app /app
  entrypoint ["/sbin/tini", "--", "/app"]
