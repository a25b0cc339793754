FROM alpine:3.20
RUN apk add --no-cache --virtual .fetch curl \
    && curl -fsSLo /usr/local/bin/app https://example.com/app \
    && apk del .fetch
EXPOSE 8080
CMD ["/usr/local/bin/app"]
