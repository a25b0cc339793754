FROM golang:1.22 AS build
ADD ["https://example.com/go-deps.tar.gz", "/deps/"]
ADD https://example.com/a.txt https://example.com/b.txt /data/
RUN go build ./...

FROM alpine:3.20
ADD http://example.com/plain-http.sh /usr/local/bin/x
