FROM alpine:3.20
RUN set -eux; \
	adduser -u 82 -D -S -G www-data www-data
RUN apk add --no-cache php83
CMD ["php83", "-a"]
