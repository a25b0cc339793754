FROM php:8.3-fpm-alpine
RUN apk add --no-cache curl
COPY . /var/www/html
EXPOSE 9000
